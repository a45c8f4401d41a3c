using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// One check the Validate stage runs before any model work: it reads the config and at most the headers of the files
/// it names, and reports every problem it finds (the stage collects all validators' errors before failing).
/// </summary>
internal interface IRunValidator
{
    /// <summary>Every problem with <paramref name="config"/> for running <paramref name="targets"/>; empty when there is none.</summary>
    IEnumerable<QuantBuildException> Validate(QuantizeConfig config, IReadOnlyList<TargetConfig> targets);
}
