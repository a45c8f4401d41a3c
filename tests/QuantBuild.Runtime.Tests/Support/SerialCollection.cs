namespace QuantBuild.Runtime.Tests.Support;

/// <summary>Tests that measure the whole process (memory, handle counts) run alone so other tests don't blur them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (process-wide measurements)";
}
