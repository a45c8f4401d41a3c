using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// Which solver a layer gets. The gradient solver costs out × min(in², 2·N·in) per iteration (the N &lt; in layers
/// apply H as Xᵀ(X·d)) plus about twelve such passes of setup; GPTQ costs about one. <c>auto</c> takes GPTQ when the
/// gradient's work exceeds <see cref="WorkLimit"/> or the layer's share of the time budget at
/// <see cref="MultiplyAddsPerSecond"/>. The rule reads only shapes and settings, never the clock, so it is the same
/// every run.
/// </summary>
internal static class SolverRule
{
    /// <summary>2^38 multiply-adds: about a minute at the rate below (a 1024 × 1024 layer's 1000 iterations are 1.1·10¹²).</summary>
    public const double WorkLimit = 1L << 38;

    /// <summary>What the gradient steps ran at on this 2-core machine (docs/benchmarks.md): ~5·10⁹ multiply-adds a second.</summary>
    public const double MultiplyAddsPerSecond = 5e9;

    /// <summary>The gradient solver's multiply-adds for the layer: (iterations + 12 setup passes) × one application of H per channel.</summary>
    public static double GradientWork(LayerObjective obj, int iterations)
    {
        bool factored = obj.Factor.Length > 0 && obj.Factor.All(f => f is not null);
        double step = factored ? 2.0 * obj.N * obj.K : (double)obj.K * obj.K;
        return obj.Rows * step * (iterations + 12.0);
    }

    public static bool UsesGptq(LayerObjective obj, OptimizerSettings settings)
    {
        if (settings.Mode == AdaQuantMode.Nearest || settings.Solver == AdaQuantSolver.Gradient)
        {
            return false;
        }

        if (settings.Solver == AdaQuantSolver.Gptq)
        {
            return true;
        }

        double work = GradientWork(obj, settings.Iterations);
        return work > WorkLimit || (settings.BudgetSeconds is { } budget && work / MultiplyAddsPerSecond > budget);
    }

    /// <summary>Refuses a solver named for <c>mode: nearest</c>, which has nothing to solve (QB2303).</summary>
    public static void Check(AdaQuantOptions options)
    {
        if (options.Mode == AdaQuantMode.Nearest && options.Solver != AdaQuantSolver.Auto)
        {
            throw new QuantBuildException("QB2303",
                $"adaquant: 'solver: {options.Solver.ToString().ToLowerInvariant()}' with 'mode: nearest', which rounds to nearest and solves nothing.",
                "remove 'solver', or use 'mode: adaround' or 'mode: adaquant'");
        }
    }
}
