// Sequence Lens walkthrough: a piece of TypeScript's own lib.es5.d.ts style, the kind of text the
// zoo's character models were trained on. The steps select the interface below and run a model on it.
interface ReadonlyArray<T> {
    readonly length: number;
    indexOf(searchElement: T, fromIndex?: number): number;
    map<U>(callbackfn: (value: T, index: number, array: readonly T[]) => U): U[];
}
