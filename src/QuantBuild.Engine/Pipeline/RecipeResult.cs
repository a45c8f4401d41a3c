using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The Recipe stage's result: the model the encoder reads and what the passes decided about encoding it.</summary>
/// <param name="Model">The fp32 model after the recipe's passes (the run's model itself when there are none).</param>
/// <param name="Passes">What the passes decided (weight encodings, nodes kept in float, activation ranges); null when the target has no recipe.</param>
internal sealed record RecipeResult(OnnxModel Model, PassRunResult? Passes)
{
    /// <summary>Whether a recipe ran (passes and their stage timing).</summary>
    public bool Ran => Passes is not null;
}
