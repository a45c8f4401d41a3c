using QuantBuild.Tests.Shared;

namespace QuantBuild.Cli.Tests;

/// <summary>Finds files of this repository from a test's output folder.</summary>
internal static class RepoPaths
{
    public static string Root => RepositoryRoot.Path;


    public static string SampleModel => Path.Combine(Root, "samples", "fashion-mnist", "model.onnx");
}
