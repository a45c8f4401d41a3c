using System.Text;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Onnx.Tests.Support;

/// <summary>Small hand-made models with tensors of chosen sizes.</summary>
public static class ModelBuilder
{
    /// <summary>A Gemm chain whose weights are float tensors of the given element counts, filled deterministically.</summary>
    public static OnnxModel WithWeights(params int[] elementCounts)
    {
        var model = new OnnxModel { IrVersion = 9, ProducerName = "quantbuild-tests" };
        model.OpsetImports.Add(new OpsetImport("", 17));
        model.Graph.Name = "weights";
        var input = new ValueInfo { Name = "x", Type = new TensorTypeInfo { ElementType = ElementType.Float, Shape = TensorShape.Of(1, 4) } };
        model.Graph.Inputs.Add(input);
        var random = new Random(1234);
        string previous = "x";
        for (int i = 0; i < elementCounts.Length; i++)
        {
            float[] values = new float[elementCounts[i]];
            for (int j = 0; j < values.Length; j++)
            {
                values[j] = (float)random.NextDouble();
            }

            string weight = $"w{i}";
            model.Graph.Initializers.Add(TensorValue.FromFloats(weight, values, values.Length));
            var node = new Node { Name = $"mul{i}", OpType = "Mul" };
            node.Inputs.Add(previous);
            node.Inputs.Add(weight);
            previous = $"y{i}";
            node.Outputs.Add(previous);
            model.Graph.Nodes.Add(node);
        }

        model.Graph.Outputs.Add(new ValueInfo { Name = previous, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
        return model;
    }

    /// <summary>A one-node model holding a string tensor of <paramref name="bytes"/> bytes.</summary>
    public static OnnxModel WithStringTensor(int bytes)
    {
        OnnxModel model = WithWeights(4);
        var labels = new TensorValue { Name = "labels", ElementType = ElementType.String, Dims = [1] };
        labels.StringData.Add(Encoding.ASCII.GetBytes(new string('a', bytes)));
        model.Graph.Initializers.Add(labels);
        return model;
    }
}
