using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Pipeline;

/// <summary>QB6030: the machine ran out of a resource the run needs, reported as a code rather than a bare crash.</summary>
public static class ResourceErrors
{
    /// <summary>The code for running out of memory.</summary>
    public const string OutOfMemoryCode = "QB6030";

    /// <summary>Out of memory while working on <paramref name="what"/>.</summary>
    public static QuantBuildException OutOfMemory(string what, Exception inner) => new(
        OutOfMemoryCode,
        $"Ran out of memory while working on {what} ({inner.Message.TrimEnd('.')}).",
        "give the process more memory (DOTNET_GCHeapHardLimit, container limit), or lower calibration.samples / batch_size; models over 2 GB need external data",
        inner: inner);
}
