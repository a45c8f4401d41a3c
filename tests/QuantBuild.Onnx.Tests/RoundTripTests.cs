using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

public sealed class RoundTripTests
{
    private const string Missing = "<missing>";

    public static TheoryData<string> RealModels()
    {
        var data = new TheoryData<string>();
        IReadOnlyList<string> testData = TestModels.TestDataModels();
        if (testData.Count == 0)
        {
            // A row that fails, rather than an empty theory that could be mistaken for a skip.
            data.Add(Missing);
        }

        foreach (string model in testData)
        {
            data.Add(model);
        }

        foreach (string sample in TestModels.SampleModels())
        {
            data.Add(sample);
        }

        return data;
    }

    [Fact]
    public void The_onnx_test_data_package_is_installed_with_all_1072_models()
    {
        Assert.True(Directory.Exists(TestModels.TestDataRoot), TestModels.MissingPackage);
        Assert.True(TestModels.TestDataModels().Count >= 1072, TestModels.MissingPackage + $" (found only {TestModels.TestDataModels().Count} models)");
    }

    [Theory]
    [MemberData(nameof(RealModels))]
    public void Load_save_load_is_lossless_and_saving_is_deterministic(string model)
    {
        Assert.True(model != Missing, TestModels.MissingPackage);
        string path = TestModels.Resolve(model);

        OnnxModel first = OnnxModelLoader.Load(path);
        byte[] saved = OnnxModelSaver.SaveToBytes(first);
        OnnxModel second = OnnxModelLoader.LoadFromBytes(saved, Path.GetDirectoryName(path));

        // Where the bytes came from is provenance, not content: an external tensor saved inline is the same tensor.
        IReadOnlyList<string> differences = IrComparer.Differences(first, second, "TensorValue.Preserved");
        Assert.True(differences.Count == 0, "Reloaded model differs:\n" + string.Join("\n", differences));

        byte[] savedAgain = OnnxModelSaver.SaveToBytes(second);
        Assert.True(saved.AsSpan().SequenceEqual(savedAgain), $"Second save differs from the first ({saved.Length} vs {savedAgain.Length} bytes).");
    }

    [Fact]
    public void Saving_to_a_file_gives_the_same_bytes_as_saving_to_memory()
    {
        string path = TestModels.Resolve(TestModels.TestDataModels().FirstOrDefault(m => m.Contains("test_conv_with_strides_padding", StringComparison.Ordinal)) ?? Missing);
        Assert.True(File.Exists(path), TestModels.MissingPackage);
        using var temp = new TempFolder();
        OnnxModel model = OnnxModelLoader.Load(path);

        string target = Path.Combine(temp.Path, "copy.onnx");
        OnnxModelSaver.Save(model, target);

        Assert.Equal(OnnxModelSaver.SaveToBytes(model), File.ReadAllBytes(target));
        Assert.Equal(["copy.onnx"], temp.FileNames());
    }
}
