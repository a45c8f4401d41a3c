using QuantBuild.Tests.Shared;

namespace QuantBuild.Onnx.Tests.Support;

/// <summary>Where the real models used by these tests live: Debian's ONNX test data and the repo's samples.</summary>
public static class TestModels
{
    public const string TestDataRoot = "/usr/share/libonnx-testdata/data";
    public const string MissingPackage = "ONNX test data not found under " + TestDataRoot + ": run `apt-get install libonnx-testdata`.";

    private static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    /// <summary>Every model.onnx of the test-data suites, sorted, as paths relative to <see cref="TestDataRoot"/>.</summary>
    public static IReadOnlyList<string> TestDataModels()
    {
        var models = new List<string>();
        foreach (string suite in Suites)
        {
            string folder = Path.Combine(TestDataRoot, suite);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (string dir in Directory.GetDirectories(folder))
            {
                string model = Path.Combine(dir, "model.onnx");
                if (File.Exists(model))
                {
                    models.Add(Path.GetRelativePath(TestDataRoot, model));
                }
            }
        }

        models.Sort(StringComparer.Ordinal);
        return models;
    }

    /// <summary>Every .onnx under the repo's samples/ folder, as absolute paths.</summary>
    public static IReadOnlyList<string> SampleModels()
    {
        string samples = Path.Combine(RepoRoot(), "samples");
        if (!Directory.Exists(samples))
        {
            return [];
        }

        string[] found = Directory.GetFiles(samples, "*.onnx", SearchOption.AllDirectories);
        Array.Sort(found, StringComparer.Ordinal);
        return found;
    }

    public static string RepoRoot() => RepositoryRoot.Path;

    public static string Resolve(string model) => Path.IsPathRooted(model) ? model : Path.Combine(TestDataRoot, model);
}
