using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// The run's first stage: selects the targets, fixes where each is written, and runs every validator before any model
/// work, so an impossible setting fails in milliseconds instead of after loading the weights. The yaml itself was
/// validated when it was parsed (<see cref="QuantizeConfigLoader"/>: keys, ranges, bit widths the encoder can write,
/// output names); what is checked here needs the files the yaml names.
/// </summary>
internal static class ValidateStage
{
    /// <summary>The validators every run applies.</summary>
    public static IReadOnlyList<IRunValidator> Mandatory { get; } = [new LabelCountValidator()];

    /// <exception cref="QuantBuildException">The one problem found, or <see cref="ConfigValidationException"/> listing several.</exception>
    public static ValidatedRun Run(QuantizeConfig config, PipelineOptions options, IEnumerable<IRunValidator>? extra = null)
    {
        IReadOnlyList<TargetConfig> targets = config.SelectTargets(options.Targets);
        List<QuantBuildException> errors = (extra ?? []).Concat(Mandatory).SelectMany(v => v.Validate(config, targets)).ToList();
        if (errors.Count == 1)
        {
            throw errors[0];
        }

        if (errors.Count > 1)
        {
            throw new ConfigValidationException(errors);
        }

        string outputDirectory = Path.GetFullPath(options.OutputDirectory ?? config.OutputDirectory);
        var paths = targets.Select(t => options.OutputDirectory is null ? t.OutputPath : Path.Combine(outputDirectory, Path.GetFileName(t.OutputPath))).ToList();
        return new ValidatedRun(config, targets, paths, outputDirectory, options.MemoryBudget ?? MemoryBudget.Default(), options);
    }
}
