using System.Buffers;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// A tensor's bytes inside a <see cref="MappedDataFile"/>, as <see cref="Memory{T}"/>. The tensor keeps this, this
/// keeps the file mapped; a saver recognises it (MemoryMarshal.TryGetMemoryManager) and writes a reference to the
/// file instead of the bytes.
/// </summary>
internal sealed unsafe class MappedSegment : MemoryManager<byte>
{
    public MappedSegment(MappedDataFile file, long offset, int length)
    {
        File = file;
        Offset = offset;
        Length = length;
    }

    public MappedDataFile File { get; }

    public long Offset { get; }

    public int Length { get; }

    public override Span<byte> GetSpan() => new(File.Pointer(Offset), Length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(File.Pointer(Offset + elementIndex), default, this);

    public override void Unpin()
    {
        // Mapped memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        // The mapping belongs to the file, shared by every tensor in it.
    }
}
