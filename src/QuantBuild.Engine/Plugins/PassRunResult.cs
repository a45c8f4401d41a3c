using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Plugins;

/// <summary>What a target's recipe produced: the rewritten fp32 model and what its passes decided about encoding it.</summary>
/// <param name="Model">The model after every pass (a copy; the run's fp32 model is untouched).</param>
/// <param name="WeightEncodings">Encodings by weight name, for <c>EncodeOptions.WeightOverrides</c>.</param>
public sealed record PassRunResult(OnnxModel Model, IReadOnlyDictionary<string, WeightEncoding> WeightEncodings)
{
    /// <summary>Nodes the passes kept in float, by name, with "pass: reason" for the report.</summary>
    public IReadOnlyDictionary<string, string> KeptInFloat { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Activation ranges the passes set, by tensor name.</summary>
    public IReadOnlyDictionary<string, TensorRange> ActivationRanges { get; init; } = new Dictionary<string, TensorRange>(StringComparer.Ordinal);

    /// <summary><paramref name="options"/> with these decisions added: weight overrides, float nodes, activation ranges.</summary>
    public EncodeOptions ApplyTo(EncodeOptions options) =>
        options with { WeightOverrides = WeightEncodings, KeptInFloat = KeptInFloat, ActivationRanges = ActivationRanges };

    /// <summary><paramref name="options"/> with <paramref name="result"/>'s decisions, or unchanged when no recipe ran.</summary>
    public static EncodeOptions Apply(EncodeOptions options, PassRunResult? result) => result?.ApplyTo(options) ?? options;
}
