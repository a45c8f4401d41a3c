using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;

namespace QuantBuild.Engine.Plugins;

/// <summary>What a target's recipe produced: the rewritten fp32 model and the weight encodings its passes chose.</summary>
/// <param name="Model">The model after every pass (a copy; the run's fp32 model is untouched).</param>
/// <param name="WeightEncodings">Encodings by weight name, for <c>EncodeOptions.WeightOverrides</c>.</param>
public sealed record PassRunResult(OnnxModel Model, IReadOnlyDictionary<string, WeightEncoding> WeightEncodings);
