using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The Plan stage's result, planned once per target: what the encoder will quantize and what calibration must observe.</summary>
/// <param name="Model">The model the encoder reads.</param>
/// <param name="Options">The encoder's options (device, weights, exclusions, the recipe's chosen encodings).</param>
/// <param name="Encoded">The activations the recipe's encoding needs ranges for.</param>
/// <param name="Calibrated">What calibration observes: <paramref name="Encoded"/>, plus every plan fallback: auto can lead to.</param>
internal sealed record TargetPlan(OnnxModel Model, EncodeOptions Options, IReadOnlyList<string> Encoded, IReadOnlyList<string> Calibrated);
