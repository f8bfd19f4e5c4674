// Node has TextEncoder and TextDecoder globals; under Bare, `#text-encoding` maps to bare-encoding/global instead.
