using System.Collections;

namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// A list in the IR: read through <see cref="IReadOnlyList{T}"/>, changed only through the verbs below, so there is no
/// writable indexer to overwrite an element by accident and the contract, not <see cref="List{T}"/>, decides what a
/// pass can do (a later minor version can add verbs, or keep an index up to date behind them, without a new major).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class IrList<T> : IReadOnlyList<T>
{
    private readonly List<T> _items = new();

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public T this[int index] => _items[index];

    /// <summary>Appends <paramref name="item"/>.</summary>
    public void Add(T item) => _items.Add(item);

    /// <summary>Appends <paramref name="items"/> in order.</summary>
    public void AddRange(IEnumerable<T> items) => _items.AddRange(items);

    /// <summary>Inserts <paramref name="item"/> at <paramref name="index"/>.</summary>
    public void Insert(int index, T item) => _items.Insert(index, item);

    /// <summary>Inserts <paramref name="items"/> at <paramref name="index"/>, in order.</summary>
    public void InsertRange(int index, IEnumerable<T> items) => _items.InsertRange(index, items);

    /// <summary>Replaces the element at <paramref name="index"/> with <paramref name="item"/>: the one way to overwrite an element.</summary>
    public void Replace(int index, T item) => _items[index] = item;

    /// <summary>Makes <paramref name="items"/> the whole content, in order (a reordering, or a rebuilt list); they may come from this list.</summary>
    public void ReplaceAll(IEnumerable<T> items)
    {
        List<T> copy = items.ToList();
        _items.Clear();
        _items.AddRange(copy);
    }

    /// <summary>Removes the first occurrence of <paramref name="item"/>; false when it is not here.</summary>
    public bool Remove(T item) => _items.Remove(item);

    /// <summary>Removes the element at <paramref name="index"/>.</summary>
    public void RemoveAt(int index) => _items.RemoveAt(index);

    /// <summary>Removes <paramref name="count"/> elements from <paramref name="index"/> on (trailing optional inputs, say).</summary>
    public void RemoveRange(int index, int count) => _items.RemoveRange(index, count);

    /// <summary>Removes every element <paramref name="match"/> accepts and returns how many.</summary>
    public int RemoveAll(Predicate<T> match) => _items.RemoveAll(match);

    /// <summary>Removes every element.</summary>
    public void Clear() => _items.Clear();

    /// <summary>The index of the first occurrence of <paramref name="item"/>, or -1.</summary>
    public int IndexOf(T item) => _items.IndexOf(item);

    /// <summary>The index of the last occurrence of <paramref name="item"/>, or -1.</summary>
    public int LastIndexOf(T item) => _items.LastIndexOf(item);

    /// <summary>The index of the first element <paramref name="match"/> accepts, or -1.</summary>
    public int FindIndex(Predicate<T> match) => _items.FindIndex(match);

    /// <summary>True when <paramref name="item"/> is here.</summary>
    public bool Contains(T item) => _items.Contains(item);

    /// <summary>An allocation-free enumerator for <c>foreach</c>.</summary>
    public List<T>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
