using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Plans the target's encoding once; Calibrate, Encode and Fallback all read this plan.</summary>
internal static class PlanStage
{
    public const string Name = "plan";

    public static TargetPlan Run(TargetContext t, RecipeResult recipe)
    {
        EncodeOptions options = PassRunResult.Apply(TargetEncoding.Options(t.Target), recipe.Passes) with { ModelPath = t.Config.ModelPath };
        IReadOnlyList<string> encoded = QdqEncoder.Plan(recipe.Model, options);
        return new TargetPlan(recipe.Model, options, encoded, FallbackRunner.Plan(recipe.Model, options, t.Target, encoded));
    }
}
