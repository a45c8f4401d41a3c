namespace QuantBuild.Cli.Tests;

/// <summary>Finds files of this repository from a test's output folder.</summary>
internal static class RepoPaths
{
    public static string Root
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "QuantBuild.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("QuantBuild.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string SampleModel => Path.Combine(Root, "samples", "fashion-mnist", "model.onnx");
}
