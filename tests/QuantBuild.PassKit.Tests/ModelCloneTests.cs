using System.Collections;
using System.Reflection;
using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit.Tests;

/// <summary>A copy keeps every field of the model, graph and nodes, in lists of its own.</summary>
public sealed class ModelCloneTests
{
    [Fact]
    public void Every_field_survives_the_copy_and_no_list_is_shared()
    {
        OnnxModel model = EveryField();
        AssertEveryFieldSet(model);
        AssertEveryFieldSet(model.Graph);
        Assert.All(model.Graph.Nodes.Where(n => n.OpType == "MatMul"), AssertEveryFieldSet);

        OnnxModel copy = ModelClone.Copy(model);

        AssertCopied(model, copy, "model");
        copy.Graph.Nodes[^1].Inputs.Replace(0, "changed");
        Assert.Equal("x", model.Graph.Nodes[^1].Inputs[0]);
    }

    [Fact]
    public void Trial_weights_replace_initializers_and_constant_nodes_in_the_copy_only()
    {
        OnnxModel model = EveryField();
        TensorValue trialW = TensorValue.FromFloats("w", [9f, 9f, 9f, 9f], 2, 2);
        TensorValue trialC = TensorValue.FromFloats("c", [8f, 8f], 2);

        OnnxModel copy = ModelClone.WithConstants(model, new Dictionary<string, TensorValue> { ["w"] = trialW, ["c"] = trialC });

        var index = new GraphIndex(copy);
        Assert.Equal([9f, 9f, 9f, 9f], index.FloatConstant("w", out _)!);
        Assert.Equal([8f, 8f], index.FloatConstant("c", out _)!);
        Assert.Equal(ConstantKind.ConstantNode, index.KindOf("c"));
        var original = new GraphIndex(model);
        Assert.Equal([1f, 2f, 3f, 4f], original.FloatConstant("w", out _)!);
        Assert.Equal([5f, 6f], original.FloatConstant("c", out _)!);
    }

    private static OnnxModel EveryField()
    {
        var model = new OnnxModel
        {
            IrVersion = 9, ProducerName = "tests", ProducerVersion = "1.0", Domain = "org.tests", ModelVersion = 7, DocString = "model doc",
        };
        model.OpsetImports.AddRange([new OpsetImport(string.Empty, 17), new OpsetImport("com.microsoft", 1)]);
        model.MetadataProps.Add(new MetadataEntry("labels", "a,b"));
        var function = new FunctionDef { Name = "f", Domain = "custom" };
        function.Nodes.Add(new Node { OpType = "Relu" });
        model.Functions.Add(function);
        model.TrainingInfo.Add(new TrainingInfo { Initialization = new Graph { Name = "init" } });
        model.Preserved = new TestPreserved();

        Graph g = model.Graph;
        g.Name = "main";
        g.DocString = "graph doc";
        g.Inputs.Add(OrtModels.Value("x", [1, 2]));
        g.Outputs.Add(OrtModels.Value("y", [1, 2]));
        g.ValueInfo.Add(OrtModels.Value("h", [1, 2]));
        g.Initializers.Add(TensorValue.FromFloats("w", [1f, 2f, 3f, 4f], 2, 2));
        g.SparseInitializers.Add(new SparseTensorValue { Dims = [4] });
        var annotation = new TensorAnnotation { TensorName = "h" };
        annotation.QuantParameterTensorNames.Add(new MetadataEntry("SCALE_TENSOR", "h_scale"));
        g.QuantizationAnnotations.Add(annotation);
        g.MetadataProps.Add(new MetadataEntry("graph", "meta"));

        var constant = new Node { OpType = "Constant", Name = "c_node" };
        constant.Outputs.Add("c");
        constant.Attributes.Add(NodeAttribute.FromTensor("value", TensorValue.FromFloats(string.Empty, [5f, 6f], 2)));
        var body = new Graph { Name = "then" };
        body.Nodes.Add(new Node { OpType = "Identity" });
        var branch = new Node { OpType = "If", Name = "if" };
        branch.Inputs.Add("cond");
        branch.Outputs.Add("branch");
        branch.Attributes.Add(NodeAttribute.FromGraph("then_branch", body));
        var matmul = new Node { Name = "mm", OpType = "MatMul", Domain = "ai.onnx", Overload = "o", DocString = "node doc" };
        matmul.Inputs.AddRange(["x", "w"]);
        matmul.Outputs.Add("h");
        matmul.Attributes.Add(NodeAttribute.FromInts("unused", 1, 2));
        matmul.MetadataProps.Add(new MetadataEntry("node", "meta"));
        matmul.Preserved = new TestPreserved();
        g.Nodes.AddRange([constant, branch, matmul]);
        return model;
    }

    // Every settable or list property holds something, so a field the copy forgot cannot hide behind a default.
    private static void AssertEveryFieldSet(object value)
    {
        foreach (PropertyInfo p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || IsList(p.PropertyType)))
        {
            object? v = p.GetValue(value);
            Assert.True(v is not null && (Items(v) is not { } items || items.Count > 0), $"{value.GetType().Name}.{p.Name} is not set in the test model");
        }
    }

    private static void AssertCopied(object expected, object actual, string path)
    {
        foreach (PropertyInfo p in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            object? e = p.GetValue(expected), a = p.GetValue(actual);
            string at = $"{path}.{p.Name}";
            if (e is Graph or Node or NodeAttribute)
            {
                Assert.NotSame(e, a);
                AssertCopied(e, a!, at);
            }
            else if (Items(e) is { } list)
            {
                List<object?> copied = Items(a!)!;
                Assert.NotSame(e, a);
                Assert.True(list.Count == copied.Count, $"{at}: {copied.Count} items, expected {list.Count}");
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i] is Graph or Node or NodeAttribute)
                    {
                        AssertCopied(list[i]!, copied[i]!, $"{at}[{i}]");
                    }
                    else
                    {
                        Assert.True(Equals(list[i], copied[i]), $"{at}[{i}] differs");
                    }
                }
            }
            else
            {
                Assert.True(Equals(e, a), $"{at}: {a} instead of {e}");
            }
        }
    }

    // The IR's lists (IrList, read-only to passes) and arrays' elements, as one list to compare; null for a non-list.
    private static bool IsList(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IrList<>);

    private static List<object?>? Items(object? value) =>
        value is not null && IsList(value.GetType()) ? ((IEnumerable)value).Cast<object?>().ToList() : null;

    private sealed class TestPreserved : PreservedFields
    {
    }
}
