using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The Recipe stage's result: the model the encoder reads and the weight encodings passes chose.</summary>
/// <param name="Model">The fp32 model after the recipe's passes (the run's model itself when there are none).</param>
/// <param name="Chosen">Weight encodings the passes chose, by initializer name.</param>
/// <param name="Ran">True when the target has a recipe (the stage is timed only then).</param>
internal sealed record RecipeResult(OnnxModel Model, IReadOnlyDictionary<string, WeightEncoding> Chosen, bool Ran);
