namespace QuantBuild.Abstractions.Passes;

/// <summary>The options type of a pass that takes none: any option written for it is a config error.</summary>
public sealed class NoPassOptions
{
}
