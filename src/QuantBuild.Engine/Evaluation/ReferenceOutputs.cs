using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Evaluation;

/// <summary>
/// The fp32 scored outputs, batch by batch, that every quantized model is compared against. Kept in memory while
/// small; past <see cref="SpillBytes"/> every batch goes to a temporary file (deleted when this is collected or the
/// process ends) and is read back when its batch is scored, so a large evaluation set or a wide output (an LLM's
/// logits) costs disk, not memory.
/// </summary>
public sealed class ReferenceOutputs : IReadOnlyList<DenseTensor>
{
    /// <summary>Bytes held in memory before the outputs move to a file.</summary>
    public const long DefaultSpillBytes = 256L << 20;

    private readonly List<DenseTensor?> _memory = [];
    private readonly List<(long Offset, ElementType Type, long[] Shape, int Length)> _spilled = [];
    private readonly long _spillBytes;
    private FileStream? _file;
    private long _held;

    /// <summary>Creates an empty store that spills past <paramref name="spillBytes"/>.</summary>
    public ReferenceOutputs(long spillBytes = DefaultSpillBytes) => _spillBytes = spillBytes;

    /// <summary>Bytes held in memory now.</summary>
    public long BytesInMemory => _held;

    /// <summary>Bytes moved to the temporary file.</summary>
    public long BytesOnDisk => _file?.Length ?? 0;

    /// <inheritdoc />
    public int Count => _memory.Count;

    /// <summary>Appends the next batch's output.</summary>
    public void Add(DenseTensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_file is null && _held + output.Data.Length <= _spillBytes)
        {
            _memory.Add(output);
            _spilled.Add(default);
            _held += output.Data.Length;
            return;
        }

        _file ??= new FileStream(Path.Combine(Path.GetTempPath(), $"quantbuild-reference-{Guid.NewGuid():N}.bin"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.RandomAccess);
        long offset = _file.Length;
        RandomAccess.Write(_file.SafeFileHandle, output.Data.Span, offset);
        _memory.Add(null);
        _spilled.Add((offset, output.ElementType, output.ShapeArray(), output.Data.Length));
    }

    /// <inheritdoc />
    public DenseTensor this[int index]
    {
        get
        {
            if (_memory[index] is DenseTensor held)
            {
                return held;
            }

            (long offset, ElementType type, long[] shape, int length) = _spilled[index];
            byte[] bytes = GC.AllocateUninitializedArray<byte>(length);
            int done = 0;
            while (done < length)
            {
                int n = RandomAccess.Read(_file!.SafeFileHandle, bytes.AsSpan(done), offset + done);
                if (n == 0)
                {
                    throw new IOException($"The spilled reference outputs ended early (batch {index}).");
                }

                done += n;
            }

            return new DenseTensor(type, shape, bytes);
        }
    }

    /// <inheritdoc />
    public IEnumerator<DenseTensor> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
