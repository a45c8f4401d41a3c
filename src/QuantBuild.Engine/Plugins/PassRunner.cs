using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Config;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Runs one target's recipe on a copy of the fp32 model. Every call into plugin code is contained: a pass that
/// throws, or runs past its time limit, becomes one QB20xx error naming the plugin, the pass and the recipe line,
/// which fails this target only.
/// </summary>
public static class PassRunner
{
    /// <summary>Runs <paramref name="target"/>'s recipe on a deep copy of <paramref name="model"/>.</summary>
    /// <exception cref="QuantBuildException">A pass is unavailable, its options are invalid, it threw or it timed out.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static PassRunResult Run(PluginHost host, TargetConfig target, OnnxModel model, PassEnvironment env)
    {
        // A structural copy: file-backed weights stay shared with the input (passes replace a tensor's bytes, never write them).
        OnnxModel working = OnnxModelLoader.Copy(model);
        var decisions = new RecipeDecisions();
        var weights = new TargetWeightFormat(target.Weights.Bits, target.Weights.Granularity != WeightGranularity.PerTensor, target.Weights.BlockSize);
        for (int index = 0; index < target.Recipe.Count; index++)
        {
            RecipePass step = target.Recipe[index];
            (IQuantizationPass pass, PluginInfo plugin) = host.Find(step.Name) ?? throw Unavailable(host, target, step);
            var errors = new List<QuantBuildException>();
            object? options = Contained(plugin, step, () => PassOptionsBinder.Bind(pass.OptionsType, step.Options, errors, step.Name));
            if (errors.Count > 0 || options is null)
            {
                throw new ConfigValidationException(errors);
            }

            if (!Contained(plugin, step, () => pass.SupportsDevice(target.Device)))
            {
                throw new QuantBuildException(ConfigErrorCodes.NotSupportedByDevice, $"pass '{step.Name}' ({plugin.Name}) cannot target device '{target.Device.Name}'",
                    "remove the pass from this target's recipe, or use a device profile it supports", step.Location.File, step.Location.Line, step.Location.Column);
            }

            TimeSpan limit = step.TimeoutSeconds is double s ? TimeSpan.FromSeconds(s) : host.Options.DefaultPassTimeout;
            env.Log.Information("{Target}: pass {Pass} ({Plugin} {Version})", target.Name, step.Name, plugin.Name, plugin.Version);
            if (NewerMinorContract(plugin) is { } built)
            {
                env.Log.Warning("warning {Code}: {Target}: plugin {Plugin} was built against plugin contract {Built}, newer than this QuantBuild's {Host}; it runs, but fails if it uses a member added after {Host}",
                    PluginErrorCodes.ContractMismatch, target.Name, plugin.Name, built, PluginContract.Version, PluginContract.Version);
            }
            RunOne(pass, plugin, step, target, working, weights, Seed(target.Name, index, step.Name), env, decisions, options, limit);
        }

        return decisions.Result(working);
    }

    private static void RunOne(IQuantizationPass pass, PluginInfo plugin, RecipePass step, TargetConfig target, OnnxModel working,
        TargetWeightFormat weights, int seed, PassEnvironment env, RecipeDecisions decisions, object options, TimeSpan limit)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(env.Cancellation);
        var context = new PassContext(target.Name, step.Name, working, target.Device, weights, seed, env, decisions, cancel.Token);
        // A dedicated thread: a pass that never returns costs the run one blocked thread, not a thread-pool worker.
        var task = Task.Factory.StartNew(() => pass.Run(context, options), cancel.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!task.Wait(limit, env.Cancellation))
            {
                cancel.Cancel();
                context.Close();
                throw new QuantBuildException(PluginErrorCodes.PassTimedOut,
                    $"pass '{step.Name}' (plugin '{plugin.Name}') did not finish within {limit.TotalSeconds:0.###} s for target '{target.Name}'; nothing was written for this target",
                    "raise 'timeout_seconds' on this recipe step if the pass needs longer (fewer calibration samples also help), or report the hang to the plugin's author",
                    step.Location.File, step.Location.Line, step.Location.Column);
            }
        }
        catch (AggregateException e) when (e.InnerException is { } inner)
        {
            if (inner is OperationCanceledException && env.Cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException(env.Cancellation);
            }

            throw Failed(plugin, step, target, inner);
        }
        finally
        {
            context.Close();
        }
    }

    private static T Contained<T>(PluginInfo plugin, RecipePass step, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is not (OutOfMemoryException or QuantBuildException))
        {
            throw Failed(plugin, step, null, e);
        }
    }

    internal static QuantBuildException Failed(PluginInfo plugin, RecipePass step, TargetConfig? target, Exception inner)
    {
        if (inner is MissingMemberException or TypeLoadException && NewerMinorContract(plugin) is { } built)
        {
            // Minor versions only add members, so such a plugin loads; it fails only when it reaches one of them.
            return new QuantBuildException(PluginErrorCodes.ContractMismatch,
                $"pass '{step.Name}' (plugin '{plugin.Name}' {plugin.Version}) was built against plugin contract {built} and used a member this QuantBuild's contract {PluginContract.Version} does not have ({inner.GetType().Name}: {inner.Message}); nothing was written for this target",
                $"update QuantBuild to one with plugin contract {built} or later, or use a plugin version built for contract {PluginContract.Version}",
                step.Location.File, step.Location.Line, step.Location.Column, inner);
        }

        string where = target is null ? string.Empty : $" for target '{target.Name}'";
        if (inner is QuantBuildException own)
        {
            // A pass that raises its own diagnostic knows the fix better than we do (a bad option, a name to correct);
            // its code stands when it lies in the plugin's block, and becomes QB2012 when it does not.
            return PluginCodes.Report(plugin, own, $"pass '{step.Name}' (plugin '{plugin.Name}' {plugin.Version}){where}, nothing was written for this target",
                step.Location.File, step.Location.Line, step.Location.Column);
        }

        return new QuantBuildException(PluginErrorCodes.PassFailed,
            $"pass '{step.Name}' (plugin '{plugin.Name}' {plugin.Version}) failed{where}: {inner.GetType().FullName}: {inner.Message}; nothing was written for this target",
            "check the pass's options and the plugin's documentation; if the input is valid, report this to the plugin's author with the log",
            step.Location.File, step.Location.Line, step.Location.Column, inner);
    }

    /// <summary>The plugin's contract version when it has this host's major and a newer minor, otherwise null.</summary>
    internal static Version? NewerMinorContract(PluginInfo plugin) =>
        Version.TryParse(plugin.ContractVersion, out Version? v) && v.Major == PluginContract.Major && v.Minor > PluginContract.Minor ? v : null;

    private static QuantBuildException Unavailable(PluginHost host, TargetConfig target, RecipePass step)
    {
        IReadOnlyList<PluginInfo> failed = host.Failures;
        if (failed.Count > 0)
        {
            // The pass most likely lives in a plugin that did not load: report that plugin's own error, at the pass.
            PluginInfo first = failed[0];
            string others = failed.Count > 1 ? $" (and {failed.Count - 1} more plugin(s) that failed to load)" : string.Empty;
            return new QuantBuildException(first.ErrorCode!,
                $"pass '{step.Name}' for target '{target.Name}' is unavailable: plugin '{first.Name}' failed to load{others}: {first.Error}",
                "fix the plugin load error above; 'quantbuild plugins list' shows every plugin and its error",
                step.Location.File, step.Location.Line, step.Location.Column);
        }

        IEnumerable<string> known = host.Passes.Keys;
        return new QuantBuildException(PluginErrorCodes.UnknownPass,
            $"unknown pass '{step.Name}' for target '{target.Name}'.{NameSuggester.DidYouMean(step.Name, known)} (known passes: {(known.Any() ? string.Join(", ", known.Order(StringComparer.Ordinal)) : "none are loaded")})",
            "fix the name, or add the plugin that provides it under 'plugins'", step.Location.File, step.Location.Line, step.Location.Column);
    }

    private static int Seed(string target, int index, string pass)
    {
        // FNV-1a: stable across processes and .NET versions, unlike string.GetHashCode.
        uint hash = 2166136261;
        foreach (char c in $"{target}/{index}/{pass}")
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash & 0x7fffffff);
    }
}
