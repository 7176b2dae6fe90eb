// IndexedDB's callbacks as promises: a request's result, a transaction's completion. Shared by
// every browser store (spaces, the address book, the phone page's settings and archive).

/** Resolves with the request's result; rejects with its error. */
export function idbRequest<T> (request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => { resolve(request.result) }
    request.onerror = () => { reject(request.error) }
  })
}

/** Resolves once the transaction committed; rejects when it fails or aborts. */
export function idbTransaction (tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => { resolve() }
    tx.onerror = () => { reject(tx.error ?? new Error('IndexedDB transaction failed')) }
    tx.onabort = () => { reject(tx.error ?? new Error('IndexedDB transaction aborted')) }
  })
}
