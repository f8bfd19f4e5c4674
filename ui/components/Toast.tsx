import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from 'react'

interface ToastItem { id: number; text: string; tone: 'good' | 'bad' | 'info' }
const ToastContext = createContext<(text: string, tone?: ToastItem['tone']) => void>(() => {})

/** Short-lived notices at the bottom right ("Project created"); they leave after a few seconds. */
export function ToastProvider ({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([])
  const next = useRef(1)
  const push = useCallback((text: string, tone: ToastItem['tone'] = 'good') => {
    const id = next.current++
    setItems((xs) => [...xs, { id, text, tone }])
    setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), 4000)
  }, [])
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className='toasts' aria-live='polite'>
        {items.map((t) => <div key={t.id} className={'toast alert-' + t.tone} data-testid='toast'>{t.text}</div>)}
      </div>
    </ToastContext.Provider>
  )
}

/** `toast(text, tone?)` from anywhere under ToastProvider. */
export function useToast () {
  return useContext(ToastContext)
}
