using System.Buffers;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Native;

namespace QuantBuild.Runtime;

/// <summary>
/// The outputs of <see cref="InferenceSession.RunOwned"/>: tensors that are views of the memory ONNX Runtime wrote
/// them into, in the order asked for. Disposing gives that memory back to ORT; the tensors must not be read after.
/// </summary>
public sealed class RunOutputs : IDisposable
{
    private readonly OrtHandle[] _values;

    internal RunOutputs(DenseTensor[] tensors, OrtHandle[] values)
    {
        Tensors = tensors;
        _values = values;
    }

    /// <summary>The outputs, in the order their names were given.</summary>
    public IReadOnlyList<DenseTensor> Tensors { get; }

    /// <summary>Releases ORT's values (and with them the memory the tensors view).</summary>
    public void Dispose()
    {
        foreach (OrtHandle value in _values)
        {
            value.Dispose();
        }
    }
}

/// <summary>A <see cref="Memory{T}"/> over native bytes someone else owns and frees.</summary>
internal sealed unsafe class NativeBytes(byte* pointer, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
