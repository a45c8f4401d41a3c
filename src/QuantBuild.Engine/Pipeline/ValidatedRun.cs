using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>A run that passed validation: the config (parsed once, by the caller), the targets it runs and where each is written.</summary>
/// <param name="Config">The validated config.</param>
/// <param name="Targets">The selected targets, in yaml order.</param>
/// <param name="OutputPaths">Where each target's model ships, in the same order.</param>
/// <param name="OutputDirectory">The output folder (absolute).</param>
/// <param name="Budget">The run's memory budget.</param>
/// <param name="Options">How the run was asked for.</param>
internal sealed record ValidatedRun(QuantizeConfig Config, IReadOnlyList<TargetConfig> Targets, IReadOnlyList<string> OutputPaths, string OutputDirectory,
    MemoryBudget Budget, PipelineOptions Options);
