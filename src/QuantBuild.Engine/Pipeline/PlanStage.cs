using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Plans the target's encoding once; Calibrate, Encode and Fallback all read this plan.</summary>
internal static class PlanStage
{
    public const string Name = "plan";

    public static TargetPlan Run(TargetContext t, RecipeResult recipe)
    {
        EncodeOptions options = TargetEncoding.Options(t.Target) with { WeightOverrides = recipe.Chosen };
        IReadOnlyList<string> encoded = QdqEncoder.Plan(recipe.Model, options);
        return new TargetPlan(recipe.Model, options, encoded, FallbackRunner.Plan(recipe.Model, options, t.Target, encoded));
    }
}
