using QuantBuild.Onnx.Serialization;

namespace QuantBuild.Onnx;

/// <summary>The weights of loaded models that live in memory-mapped external data files.</summary>
public static class MappedWeights
{
    /// <summary>
    /// Lets the OS take back the pages of mapped weights this process has read (they are re-read from the file, or
    /// the OS cache, when touched again). Call between stages: after the encoder has read every weight once, ONNX
    /// Runtime's sessions should not sit beside a second resident copy. Linux only; elsewhere nothing happens.
    /// </summary>
    /// <returns>Bytes of mapping released.</returns>
    public static long ReleaseResidentPages() => MappedDataFile.ReleaseResidentPages();

    /// <summary>
    /// Lets the OS take back the pages of one tensor's bytes when they are a slice of a mapped file (otherwise nothing
    /// happens): the encoder reads each weight once, so a multi-gigabyte model need never be resident all at once.
    /// </summary>
    public static void Release(ReadOnlyMemory<byte> bytes)
    {
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetMemoryManager(bytes, out MappedSegment? segment, out int start, out int length))
        {
            segment.File.ReleasePages(segment.Offset + start, length);
        }
    }
}
