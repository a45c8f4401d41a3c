namespace QuantBuild.Runtime.Tests.Support;

/// <summary>Real ONNX models from Debian's libonnx-testdata package (ONNX's own node tests).</summary>
internal static class TestData
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";

    /// <summary>The model.onnx of ONNX node test <paramref name="test"/>; fails (never skips) when the package is missing.</summary>
    public static string NodeModel(string test)
    {
        string path = Path.Combine(Root, test, "model.onnx");
        Assert.True(
            File.Exists(path),
            $"ONNX test model {path} is missing. Install it with: sudo apt-get install libonnx-testdata");
        return path;
    }
}
