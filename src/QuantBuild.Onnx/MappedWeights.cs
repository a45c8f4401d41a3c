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
}
