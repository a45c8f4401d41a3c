using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Passes;

/// <summary>
/// Everything a pass may read and change for one target. The host gives each target its own copy of the fp32
/// model, so a pass may rewrite <see cref="Model"/> freely; later passes and the encoder see the result.
/// </summary>
public interface IPassContext
{
    /// <summary>The target's name as written in quantize.yaml.</summary>
    string TargetName { get; }

    /// <summary>The model as earlier passes left it; the pass may modify it in place (graph rewrites, folded scales).</summary>
    OnnxModel Model { get; }

    /// <summary>The device the target is quantized for: legal types, symmetry, integer ops.</summary>
    DeviceProfile Device { get; }

    /// <summary>The weight format the target asks for.</summary>
    TargetWeightFormat Weights { get; }

    /// <summary>A seed derived from the target and the pass's place in the recipe: the same run gives the same seed.</summary>
    int Seed { get; }

    /// <summary>The host's log.</summary>
    IPassLogger Log { get; }

    /// <summary>Where to report progress of long work (samples, layers).</summary>
    IProgress<StageProgress> Progress { get; }

    /// <summary>Signalled when the run is cancelled or the pass passes its time limit; check it between units of work.</summary>
    CancellationToken Cancellation { get; }

    /// <summary>Runs models in the host's ONNX Runtime.</summary>
    IModelRunner Runner { get; }

    /// <summary>Weight encodings recorded so far in this target's recipe, by initializer name.</summary>
    IReadOnlyDictionary<string, WeightEncoding> WeightEncodings { get; }

    /// <summary>
    /// Runs the current <see cref="Model"/> over the calibration data and observes the named float tensors: min/max,
    /// a histogram for quantiles and, when <paramref name="channelAxis"/> is given, the per-channel absolute maximum
    /// along that axis (negative counts from the end).
    /// </summary>
    IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null);

    /// <summary>
    /// Runs the current <see cref="Model"/> over at most <paramref name="maxSamples"/> calibration samples and returns the
    /// real values of the named tensors (graph inputs or any intermediate, inside If branches and Loop/Scan bodies too),
    /// each with the samples stacked on axis 0. A branch tensor holds only the samples whose run took its branch; a body
    /// tensor holds every iteration's value, iterations on axis 0 ahead of the batch; with a streamed input
    /// (<c>inputs: {x: {stream: y}}</c>) the windows run in order and the input's values are the state each was fed.
    /// </summary>
    IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples);

    /// <summary>
    /// Records how the constant weight <paramref name="initializerName"/> is to be quantized; the encoder uses it verbatim
    /// instead of round-to-nearest. A later call for the same weight replaces an earlier one.
    /// </summary>
    void SetWeightEncoding(string initializerName, WeightEncoding encoding);

    /// <summary>
    /// Keeps node <paramref name="nodeName"/> (its <see cref="Node.Name"/>, in the main graph, an If branch or a Loop/Scan body) in float: the encoder quantizes neither its
    /// weights nor its activations, and the report lists it with <paramref name="reason"/> and this pass's name. What
    /// passes did before by removing a node from a selection, said to the host. A later call for the same node replaces
    /// the reason.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no node of that name, or the reason is empty.</exception>
    void KeepInFloat(string nodeName, string reason);

    /// <summary>
    /// Sets the real range activation <paramref name="tensorName"/>'s quantization grid covers, instead of the range
    /// calibration would choose (a clipping search, a range known from the model's math). The grid always includes 0.
    /// A later call for the same tensor replaces an earlier one.
    /// </summary>
    /// <exception cref="ArgumentException">The bounds are not finite or <paramref name="min"/> exceeds <paramref name="max"/>.</exception>
    void SetActivationRange(string tensorName, float min, float max);
}
