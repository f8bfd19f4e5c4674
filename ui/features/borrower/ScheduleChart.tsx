/** A loan's repayment schedule as stacked bars per instalment: principal and interest, paid and still due. */
import type { Loan } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { BarChart } from '../../components/index.ts'

export function ScheduleChart ({ loan }: { loan: Loan }) {
  const s = loan.schedule
  return (
    <BarChart
      title={`Repayment schedule of ${formatMinor(loan.amount, loan.currency)}`}
      testid='schedule-chart'
      labels={s.map((i) => `#${i.n}`)}
      format={(n) => formatMinor(Math.round(n), loan.currency)}
      series={[
        { name: 'principal paid', color: 'var(--chart-1)', values: s.map((i) => i.principalPaid) },
        { name: 'principal due', color: 'var(--chart-2)', values: s.map((i) => i.principal - i.principalPaid) },
        { name: 'interest paid', color: 'var(--chart-3)', values: s.map((i) => i.interestPaid) },
        { name: 'interest due', color: 'var(--chart-4)', values: s.map((i) => i.interest - i.interestPaid) }
      ]}
    />
  )
}
