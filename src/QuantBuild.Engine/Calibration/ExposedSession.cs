using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// A session that fetches tensors by their own names wherever they are computed, in the main graph or inside If
/// branches (<see cref="BranchExposure"/>). A tensor of a branch the run did not take comes back empty.
/// </summary>
internal sealed class ExposedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly BranchExposure _exposure;

    public ExposedSession(OnnxModel model, SessionOptions? options, IReadOnlyList<string> tensors)
    {
        _exposure = BranchExposure.Create(model, tensors);
        _session = ModelSessions.Open(_exposure.Model, options, tensors.Select(_exposure.OutputName).ToList());
    }

    /// <summary>Runs <paramref name="inputs"/> and returns <paramref name="tensors"/> keyed by their own names.</summary>
    public IReadOnlyDictionary<string, DenseTensor> Run(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> tensors)
    {
        IReadOnlyDictionary<string, DenseTensor> results = _session.Run(inputs, tensors.Select(_exposure.OutputName).ToList());
        return tensors.Distinct(StringComparer.Ordinal).ToDictionary(t => t, t => results[_exposure.OutputName(t)], StringComparer.Ordinal);
    }

    public void Dispose() => _session.Dispose();
}
