using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Tests.Support;

namespace QuantBuild.Onnx.Tests;

public sealed class TensorFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_test_data_input_pb_files_load_as_dense_tensors_matching_the_model_inputs()
    {
        IReadOnlyList<string> models = TestModels.TestDataModels();
        Assert.True(models.Count > 0, TestModels.MissingPackage);
        var failures = new List<string>();
        int loaded = 0;
        foreach (string model in models)
        {
            string folder = Path.GetDirectoryName(TestModels.Resolve(model))!;
            string input = Path.Combine(folder, "test_data_set_0", "input_0.pb");
            TensorTypeInfo? declared = FirstInputType(OnnxModelLoader.Load(TestModels.Resolve(model)));
            if (!File.Exists(input) || declared is null || declared is SparseTensorTypeInfo || declared.ElementType == ElementType.String)
            {
                continue;
            }

            try
            {
                DenseTensor tensor = OnnxTensorFile.Load(input);
                // Older ONNX test data stores bfloat16 inputs with data_type uint16 (same bits); that is the file's truth.
                bool sameType = tensor.ElementType == declared.ElementType
                    || tensor.ElementType == ElementType.UInt16 && declared.ElementType == ElementType.BFloat16;
                if (!sameType || declared.Shape is { } shape && !ShapeMatches(shape, tensor))
                {
                    failures.Add($"{model}: {tensor} vs declared {ElementTypeInfo.OnnxName(declared.ElementType)}{declared.Shape}");
                }

                loaded++;
            }
            catch (QuantBuildException e)
            {
                failures.Add($"{model}: {e.ToDiagnosticString()}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(loaded > 900, $"only {loaded} input_0.pb files were numeric tensors");
    }

    [Fact]
    public void A_saved_tensor_file_loads_back_equal()
    {
        DenseTensor tensor = DenseTensor.FromFloats([1f, -2f, float.NaN, 4f, 5f, 6f], 2, 3);
        string path = _temp.File("input_0.pb");

        OnnxTensorFile.Save(tensor, path, "x");

        DenseTensor loaded = OnnxTensorFile.Load(path);
        Assert.Equal(tensor.ShapeArray(), loaded.ShapeArray());
        Assert.Equal(tensor.Data.ToArray(), loaded.Data.ToArray());
        Assert.Equal("x", OnnxTensorFile.LoadValue(path).Name);
    }

    [Fact]
    public void A_string_tensor_file_loads_as_a_value_but_not_as_a_dense_tensor()
    {
        string path = Path.Combine(TestModels.TestDataRoot, "node", "test_strnormalizer_export_monday_casesensintive_lower", "test_data_set_0", "input_0.pb");
        Assert.True(File.Exists(path), TestModels.MissingPackage);

        Assert.Equal(ElementType.String, OnnxTensorFile.LoadValue(path).ElementType);
        Assert.Equal("QB1110", Assert.Throws<QuantBuildException>(() => OnnxTensorFile.Load(path)).Code);
    }

    [Fact]
    public void A_file_that_is_not_a_tensor_is_QB1110()
    {
        string path = _temp.File("notes.pb");
        File.WriteAllText(path, "just some notes");
        var error = Assert.Throws<QuantBuildException>(() => OnnxTensorFile.Load(path));
        Assert.Equal("QB1110", error.Code);
        Assert.Contains("notes.pb", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_file_is_QB1101()
    {
        Assert.Equal("QB1101", Assert.Throws<QuantBuildException>(() => OnnxTensorFile.Load(_temp.File("nope.pb"))).Code);
    }

    private static TensorTypeInfo? FirstInputType(OnnxModel model)
    {
        var initializers = model.Graph.Initializers.Select(i => i.Name).ToHashSet();
        return model.Graph.Inputs.FirstOrDefault(i => !initializers.Contains(i.Name))?.Type as TensorTypeInfo;
    }

    private static bool ShapeMatches(TensorShape shape, DenseTensor tensor)
    {
        if (shape.Rank != tensor.Rank)
        {
            return false;
        }

        for (int i = 0; i < shape.Rank; i++)
        {
            if (shape.Dims[i].Value is long d && d != tensor.Shape[i])
            {
                return false;
            }
        }

        return true;
    }
}
