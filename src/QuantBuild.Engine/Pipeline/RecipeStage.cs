using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Pipeline;

/// <summary>Runs the target's recipe passes on a copy of the fp32 model; a target without a recipe passes the model through.</summary>
internal static class RecipeStage
{
    public const string Name = "passes";

    // The plugin contract does not ask passes to be thread-safe (a third party's may keep static state), so recipes of
    // targets running in parallel take turns; everything after the recipe runs concurrently.
    private static readonly Lock OnePassAtATime = new();

    public static RecipeResult Run(TargetContext t)
    {
        if (t.Target.Recipe.Count == 0)
        {
            return new RecipeResult(t.Model, null);
        }

        var env = new PassEnvironment
        {
            Calibration = t.Data.Calibration,
            BatchSize = t.Config.Calibration.BatchSize,
            MaxSamples = t.Config.Calibration.Samples,
            Log = t.Log,
            Progress = t.Run.Options.Progress,
            Cancellation = t.Cancellation,
        };
        lock (OnePassAtATime)
        {
            PassRunResult passed = PassRunner.Run(t.Plugins!, t.Target, t.Model, env);
            return new RecipeResult(passed.Model, passed);
        }
    }
}
