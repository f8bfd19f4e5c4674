/**
 * Reading one list method across several followed books at once (a borrower discovers projects
 * in every book she follows), re-read when any book changes.
 */
import { send, type Method, type Result } from '../../lib/contract-client.ts'
import { useQuery, type Query } from '../../lib/hooks.ts'
import type { BookInfo } from '../../app/node-context.tsx'

type ListMethod = 'project.list' | 'loan.list' | 'funding.list' | 'payment.list' | 'distribution.list'

export interface PerBook<K extends Method> { book: BookInfo; items: Result<K> }

/**
 * `method` for every book in `books`; a book whose view has not replicated yet gives an empty list
 * rather than failing the whole query.
 */
export function usePerBook<K extends ListMethod> (method: K, books: BookInfo[]): Query<Array<PerBook<K>>> {
  const topics = books.map((b) => b.topic).join(',')
  return useQuery(async () => await Promise.all(books.map(async (book) => {
    const items = await send(method, { book: book.topic }).catch(() => [] as unknown as Result<K>)
    return { book, items: items as Result<K> }
  })), [method, topics], ['book.changed'])
}
