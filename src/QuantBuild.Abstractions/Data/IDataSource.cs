using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Data;

/// <summary>
/// Samples to feed a model: calibration or evaluation inputs, or labels. Every tensor a source returns holds
/// samples along its first axis, so the host can batch them however the model's batch dimension allows.
/// Implement this in a plugin to read data from anything QuantBuild does not read itself.
/// </summary>
public interface IDataSource : IDisposable
{
    /// <summary>A short description for messages and reports, usually the file or folder it reads.</summary>
    string Description { get; }

    /// <summary>The names of the tensors each read returns (model input names, or "labels").</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>How many samples the source holds.</summary>
    long SampleCount { get; }

    /// <summary>
    /// Reads samples [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of every tensor,
    /// each with the samples stacked on axis 0. Reads only what it returns, so memory stays flat.
    /// </summary>
    IReadOnlyDictionary<string, DenseTensor> Read(long start, int count);
}
