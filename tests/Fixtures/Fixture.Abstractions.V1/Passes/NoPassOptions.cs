namespace QuantBuild.Abstractions.Passes;

public sealed class NoPassOptions
{
}
