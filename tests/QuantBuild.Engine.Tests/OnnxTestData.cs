namespace QuantBuild.Engine.Tests;

/// <summary>Debian's libonnx-testdata (ONNX's backend test models with their .pb inputs), or QUANTBUILD_ONNX_TESTDATA.</summary>
internal static class OnnxTestData
{
    public static string Root
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("QUANTBUILD_ONNX_TESTDATA") ?? "/usr/share/libonnx-testdata/data";
            if (!Directory.Exists(root))
            {
                throw new InvalidOperationException($"ONNX test data not found at {root}: apt-get install libonnx-testdata, or set QUANTBUILD_ONNX_TESTDATA.");
            }

            return root;
        }
    }
}
