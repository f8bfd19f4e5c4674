// @ts-ignore -- brittle ships no type declarations; typed locally below
import brittle from 'brittle'
import fc from 'fast-check'
import { computeSchedule, addMonths } from '../books/schedule.ts'
import type { Instalment, ScheduleInput } from '../books/schedule.ts'

/** The slice of brittle's assertion API these tests use. */
interface Assert {
  is (actual: unknown, expected: unknown, message?: string): void
  alike (actual: unknown, expected: unknown, message?: string): void
  ok (value: unknown, message?: string): void
  pass (message?: string): void
  exception (fn: () => unknown, expected?: unknown, message?: string): Promise<void>
}
const test = brittle as (name: string, fn: (t: Assert) => void | Promise<void>) => void

// Expected tables below were computed independently (Python, Decimal / Fraction,
// annuity A = P·r / (1 − (1+r)^−n) at 100-digit precision, half-up rounding),
// not copied from the implementation's output.

const BAD = { code: 'BAD_ARGUMENT' }

/** [principal, interest, total] per row */
type Row = [number, number, number]

function amounts (rows: Instalment[]): Row[] {
  return rows.map((r) => [r.principal, r.interest, r.total])
}

function checkInvariants (t: Assert, rows: Instalment[], input: ScheduleInput): void {
  t.is(rows.length, input.months, 'one row per month')
  t.is(rows.reduce((a, r) => a + r.principal, 0), input.principal, 'principal column sums exactly to the principal')
  t.ok(rows.every((r, i) => r.n === i + 1), 'rows numbered 1..n')
  t.ok(rows.every((r) => r.total === r.principal + r.interest), 'total = principal + interest on every row')
  t.ok(rows.every((r) => Number.isSafeInteger(r.principal) && r.principal >= 0 && Number.isSafeInteger(r.interest) && r.interest >= 0), 'non-negative safe integers')
  t.ok(rows.every((r) => r.dueDate === addMonths(input.startDate, r.n)), 'due dates = startDate + n months')
}

test('flat: 1000.00 at 12 % over 12 months', (t) => {
  const input: ScheduleInput = { principal: 100000, annualRateBps: 1200, months: 12, method: 'flat', startDate: '2026-01-31' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  const expected: Row[] = [
    [8333, 1000, 9333], [8333, 1000, 9333], [8333, 1000, 9333], [8333, 1000, 9333],
    [8333, 1000, 9333], [8333, 1000, 9333], [8333, 1000, 9333], [8333, 1000, 9333],
    [8333, 1000, 9333], [8333, 1000, 9333], [8333, 1000, 9333], [8337, 1000, 9337]
  ]
  t.alike(amounts(rows), expected)
  t.is(rows.reduce((a, r) => a + r.interest, 0), 12000, 'total interest 12000')
  t.alike(rows.map((r) => r.dueDate), [
    '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31',
    '2026-08-31', '2026-09-30', '2026-10-31', '2026-11-30', '2026-12-31', '2027-01-31'
  ])
})

test('flat: 5000.00 at 18.5 % over 6 months', (t) => {
  // total interest = 500000 × 1850 × 6 / 120000 = 46250; 46250 / 6 = 7708 r 2; 500000 / 6 = 83333 r 2
  const input: ScheduleInput = { principal: 500000, annualRateBps: 1850, months: 6, method: 'flat', startDate: '2026-08-31' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [
    [83333, 7708, 91041], [83333, 7708, 91041], [83333, 7708, 91041],
    [83333, 7708, 91041], [83333, 7708, 91041], [83335, 7710, 91045]
  ])
  t.alike(rows.map((r) => r.dueDate), ['2026-09-30', '2026-10-31', '2026-11-30', '2026-12-31', '2027-01-31', '2027-02-28'])
})

test('flat: total interest rounds half up', (t) => {
  // 100001 × 1850 × 7 / 120000 = 10791.77… -> 10792; 10792 / 7 = 1541 r 5; 100001 / 7 = 14285 r 6
  const input: ScheduleInput = { principal: 100001, annualRateBps: 1850, months: 7, method: 'flat', startDate: '2026-01-15' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [
    [14285, 1541, 15826], [14285, 1541, 15826], [14285, 1541, 15826], [14285, 1541, 15826],
    [14285, 1541, 15826], [14285, 1541, 15826], [14291, 1546, 15837]
  ])
  // 1 × 5000 × 12 / 120000 = 0.5 exactly -> 1
  const tiny = computeSchedule({ principal: 1, annualRateBps: 5000, months: 12, method: 'flat', startDate: '2026-01-15' })
  t.is(tiny.reduce((a, r) => a + r.interest, 0), 1)
  t.alike(tiny[11], { n: 12, dueDate: '2027-01-15', principal: 1, interest: 1, total: 2 })
})

test('declining-balance: 1000.00 at 12 % over 12 months (payment 88.85)', (t) => {
  const input: ScheduleInput = { principal: 100000, annualRateBps: 1200, months: 12, method: 'declining-balance', startDate: '2026-01-31' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [
    [7885, 1000, 8885],
    [7964, 921, 8885],
    [8043, 842, 8885],
    [8124, 761, 8885],
    [8205, 680, 8885],
    [8287, 598, 8885],
    [8370, 515, 8885],
    [8454, 431, 8885],
    [8538, 347, 8885],
    [8624, 261, 8885],
    [8710, 175, 8885],
    [8796, 88, 8884] // last row takes the remaining balance
  ])
  t.is(rows.reduce((a, r) => a + r.interest, 0), 6619, 'total interest 66.19')
  t.is(rows[0].dueDate, '2026-02-28')
  t.is(rows[11].dueDate, '2027-01-31')
})

test('declining-balance: 5000.00 at 18.5 % over 6 months', (t) => {
  // A = 87887.17996… -> 87887
  const input: ScheduleInput = { principal: 500000, annualRateBps: 1850, months: 6, method: 'declining-balance', startDate: '2027-12-15' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [
    [80179, 7708, 87887],
    [81415, 6472, 87887],
    [82670, 5217, 87887],
    [83944, 3943, 87887],
    [85239, 2648, 87887],
    [86553, 1334, 87887]
  ])
  t.is(rows.reduce((a, r) => a + r.interest, 0), 27322)
  t.alike(rows.map((r) => r.dueDate), ['2028-01-15', '2028-02-15', '2028-03-15', '2028-04-15', '2028-05-15', '2028-06-15'])
})

test('declining-balance: last row absorbs an upward rounding', (t) => {
  // A = 18228.8856… -> 18229
  const input: ScheduleInput = { principal: 123457, annualRateBps: 999, months: 7, method: 'declining-balance', startDate: '2026-03-01' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [
    [17201, 1028, 18229],
    [17344, 885, 18229],
    [17489, 740, 18229],
    [17634, 595, 18229],
    [17781, 448, 18229],
    [17929, 300, 18229],
    [18079, 151, 18230]
  ])
})

test('declining-balance: large long loan stays exact', (t) => {
  // 10^12 minor units at 24 % over 360 months: A = 20016044139, last row 19623570271 + 392471405
  const input: ScheduleInput = { principal: 1e12, annualRateBps: 2400, months: 360, method: 'declining-balance', startDate: '2026-01-31' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.is(rows[0].total, 20016044139)
  t.alike(amounts(rows.slice(-1)), [[19623570271, 392471405, 20016041676]])
  t.is(rows.reduce((a, r) => a + r.interest, 0), 6205775887577)
  t.is(rows[359].dueDate, '2056-01-31')
})

test('declining-balance: tiny loan never repays more than the balance', (t) => {
  // A = 0.6… -> 1; without the cap row 4 would overpay and row 5 go negative
  const input: ScheduleInput = { principal: 3, annualRateBps: 1, months: 5, method: 'declining-balance', startDate: '2026-01-01' }
  const rows = computeSchedule(input)
  checkInvariants(t, rows, input)
  t.alike(amounts(rows), [[1, 0, 1], [1, 0, 1], [1, 0, 1], [0, 0, 0], [0, 0, 0]])
})

test('0 % rate: equal principal split, last absorbs remainder, no interest', (t) => {
  for (const method of ['flat', 'declining-balance'] as const) {
    const input: ScheduleInput = { principal: 100000, annualRateBps: 0, months: 7, method, startDate: '2026-01-31' }
    const rows = computeSchedule(input)
    checkInvariants(t, rows, input)
    t.alike(amounts(rows), [
      [14285, 0, 14285], [14285, 0, 14285], [14285, 0, 14285], [14285, 0, 14285],
      [14285, 0, 14285], [14285, 0, 14285], [14290, 0, 14290]
    ], method)
  }
})

test('property: any valid input gives a schedule whose principal sums exactly', (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1e12 }),
    fc.integer({ min: 0, max: 100000 }),
    fc.integer({ min: 1, max: 600 }),
    fc.constantFrom('flat' as const, 'declining-balance' as const),
    (principal, annualRateBps, months, method) => {
      const rows = computeSchedule({ principal, annualRateBps, months, method, startDate: '2026-01-31' })
      let sum = 0
      for (const r of rows) {
        if (!(r.principal >= 0 && r.interest >= 0 && r.total === r.principal + r.interest)) return false
        sum += r.principal
      }
      return rows.length === months && sum === principal
    }
  ), { numRuns: 300 })
  t.pass('property held')
})

test('single month', (t) => {
  const flat = computeSchedule({ principal: 100000, annualRateBps: 1200, months: 1, method: 'flat', startDate: '2026-01-31' })
  t.alike(flat, [{ n: 1, dueDate: '2026-02-28', principal: 100000, interest: 1000, total: 101000 }])
  const decl = computeSchedule({ principal: 100000, annualRateBps: 1200, months: 1, method: 'declining-balance', startDate: '2026-01-31' })
  t.alike(decl, [{ n: 1, dueDate: '2026-02-28', principal: 100000, interest: 1000, total: 101000 }])
})

test('addMonths: end-of-month clamping, leap years, year roll-over', (t) => {
  t.is(addMonths('2026-01-31', 1), '2026-02-28')
  t.is(addMonths('2028-01-31', 1), '2028-02-29', 'leap year')
  t.is(addMonths('2100-01-29', 1), '2100-02-28', '2100 is not a leap year')
  t.is(addMonths('2000-01-30', 1), '2000-02-29', '2000 is a leap year')
  t.is(addMonths('2024-02-29', 12), '2025-02-28')
  t.is(addMonths('2024-02-29', 48), '2028-02-29')
  t.is(addMonths('2027-12-15', 1), '2028-01-15', 'December -> January next year')
  t.is(addMonths('2026-12-31', 1), '2027-01-31')
  t.is(addMonths('2026-01-31', 2), '2026-03-31', 'no drift: clamping applies to the target month only')
  t.is(addMonths('2026-03-31', -1), '2026-02-28')
  t.is(addMonths('2026-01-15', -1), '2025-12-15')
  t.is(addMonths('2026-05-31', 0), '2026-05-31')
  t.is(addMonths('2026-01-31', 600), '2076-01-31')
})

test('addMonths: bad input', (t) => {
  for (const d of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-1-5', '26-01-01', '2026-01-01T00:00:00Z', '', 'tomorrow']) {
    t.exception(() => addMonths(d, 1), BAD, `rejects date ${JSON.stringify(d)}`)
  }
  t.exception(() => addMonths('2026-01-01', 1.5), BAD, 'fractional months')
  t.exception(() => addMonths('2026-01-01', NaN), BAD, 'NaN months')
  t.exception(() => addMonths('9999-12-01', 1), BAD, 'past year 9999')
})

test('computeSchedule: invalid input throws BAD_ARGUMENT', (t) => {
  const ok: ScheduleInput = { principal: 100000, annualRateBps: 1200, months: 12, method: 'flat', startDate: '2026-01-31' }
  const cases: Array<[string, Record<string, unknown>]> = [
    ['zero principal', { principal: 0 }],
    ['negative principal', { principal: -100 }],
    ['fractional principal', { principal: 100.5 }],
    ['unsafe principal', { principal: 2 ** 53 }],
    ['string principal', { principal: '100000' }],
    ['negative rate', { annualRateBps: -1 }],
    ['rate above 100000 bps', { annualRateBps: 100001 }],
    ['fractional rate', { annualRateBps: 12.5 }],
    ['zero months', { months: 0 }],
    ['601 months', { months: 601 }],
    ['fractional months', { months: 1.5 }],
    ['unknown method', { method: 'compound' }],
    ['missing method', { method: undefined }],
    ['invalid date', { startDate: '2026-02-30' }],
    ['malformed date', { startDate: '31/01/2026' }]
  ]
  for (const [name, patch] of cases) {
    t.exception(() => computeSchedule({ ...ok, ...patch } as unknown as ScheduleInput), BAD, name)
  }
  t.exception(() => computeSchedule(null as unknown as ScheduleInput), BAD, 'null input')
  // 2^53 - 1 at 1000 %/yr repaid in one month: principal + interest does not fit a safe integer
  for (const method of ['flat', 'declining-balance'] as const) {
    t.exception(() => computeSchedule({ ...ok, principal: Number.MAX_SAFE_INTEGER, annualRateBps: 100000, months: 1, method }), BAD, `overflow (${method})`)
  }
  t.is(computeSchedule({ ...ok, annualRateBps: 100000, months: 600, method: 'declining-balance' }).length, 600, 'limits themselves are accepted')
})
