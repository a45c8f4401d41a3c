namespace QuantBuild.Engine.Pipeline;

/// <summary>What the manifest says about the model file it ships beside, known from the stage that wrote it.</summary>
/// <param name="Sha256">SHA-256 of the .onnx file, hex.</param>
/// <param name="WeightBits">Bits per weight → the nodes whose weights are stored at that width (see <see cref="WrittenWeights"/>).</param>
/// <param name="DynamicLayers">The nodes that quantize their input at run time (see <see cref="WrittenActivations"/>).</param>
public sealed record WrittenModel(string Sha256, IReadOnlyDictionary<int, List<string>> WeightBits, IReadOnlyList<string>? DynamicLayers = null);
