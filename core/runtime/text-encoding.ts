/**
 * Import first in any module that loads @noble/* or @scure/* (directly or through another
 * library): they call TextEncoder when they load, and Bare 1.31 has no such global. Under Bare
 * this sets TextEncoder/TextDecoder from bare-encoding; under Node it does nothing.
 */
import '#text-encoding'
