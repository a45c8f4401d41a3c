using Google.Protobuf;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;

namespace QuantBuild.Onnx.Tests;

/// <summary>
/// Field-level fuzzing (issue 15): byte mutations mostly break the wire format and stop at the envelope, so these
/// edits keep the protobuf well-formed and make its fields contradict each other instead (dims against data, types,
/// segments, sparse indices, external data entries, attributes, subgraphs). Deterministic: case i always makes the
/// same model. Every outcome must be a load or a QuantBuildException with a real code, within seconds.
/// </summary>
public sealed class ProtoFuzzTests : IDisposable
{
    private const int Cases = 400;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Models_whose_fields_contradict_each_other_load_or_fail_with_a_real_QB_code()
    {
        File.WriteAllBytes(_temp.File("side.bin"), new byte[256]);
        var failures = new List<string>();
        for (int i = 0; i < Cases; i++)
        {
            ModelProto proto = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(ModelBuilder.WithWeights(8, 1200, 3)));
            var random = new Random(i);
            for (int e = 1 + random.Next(3); e > 0; e--)
            {
                Mutate(proto, random);
            }

            byte[] bytes = proto.ToByteArray();
            if (Outcome(bytes) is { } failure)
            {
                failures.Add($"case {i}: {failure}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private string? Outcome(byte[] bytes)
    {
        Task load = Task.Run(() => OnnxModelSaver.SaveToBytes(OnnxModelLoader.LoadFromBytes(bytes, _temp.Path, "fuzz.onnx")));
        try
        {
            return load.Wait(TimeSpan.FromSeconds(5)) ? null : "still loading after 5 s";
        }
        catch (AggregateException x) when (x.InnerException is QuantBuildException qb)
        {
            return qb.Code == "QB0001" ? $"QB0001 {qb.Message}" : null;
        }
        catch (AggregateException x)
        {
            return $"{x.InnerException!.GetType().Name}: {x.InnerException.Message}\n{x.InnerException.StackTrace}";
        }
    }

    private static void Mutate(ModelProto proto, Random random)
    {
        GraphProto graph = proto.Graph;
        TensorProto t = graph.Initializer[random.Next(graph.Initializer.Count)];
        long[] sizes = [0, 1, -1, 3, 7, 1 << 20, int.MaxValue, long.MaxValue, long.MinValue];
        switch (random.Next(14))
        {
            case 0:
                t.Dims.Add(sizes[random.Next(sizes.Length)]);
                break;
            case 1:
                t.Dims.Clear();
                break;
            case 2:
                t.DataType = random.Next(-2, 30);
                break;
            case 3:
                t.RawData = ByteString.CopyFrom(new byte[random.Next(0, 40)]);
                break;
            case 4:
                t.ClearRawData();
                for (int k = random.Next(5); k > 0; k--)
                {
                    t.Int64Data.Add(random.NextInt64());
                    t.FloatData.Add(float.NaN);
                    t.StringData.Add(ByteString.CopyFromUtf8("s"));
                }

                break;
            case 5:
                t.Segment = new TensorProto.Types.Segment { Begin = sizes[random.Next(sizes.Length)], End = sizes[random.Next(sizes.Length)] };
                break;
            case 6:
                t.ClearRawData();
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = random.Next(3) switch { 0 => "side.bin", 1 => "../x", _ => "" } });
                t.ExternalData.Add(new StringStringEntryProto { Key = random.Next(2) == 0 ? "offset" : "length", Value = sizes[random.Next(sizes.Length)].ToString() });
                if (random.Next(2) == 0)
                {
                    t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "not-a-number" });
                }

                break;
            case 7:
                graph.SparseInitializer.Add(new SparseTensorProto
                {
                    Values = t.Clone(),
                    Indices = new TensorProto { DataType = 7, Dims = { 1 }, Int64Data = { sizes[random.Next(sizes.Length)] } },
                    Dims = { sizes[random.Next(sizes.Length)] },
                });
                break;
            case 8:
                graph.Node[random.Next(graph.Node.Count)].Attribute.Add(new AttributeProto
                {
                    Name = "a",
                    Type = (AttributeProto.Types.AttributeType)random.Next(0, 16),
                    T = random.Next(2) == 0 ? t.Clone() : null,
                    G = random.Next(2) == 0 ? graph.Clone() : null,
                });
                break;
            case 9:
                graph.Node[random.Next(graph.Node.Count)].Input.Clear();
                break;
            case 10:
                graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = random.Next(-1, 30), Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = sizes[random.Next(sizes.Length)] } } } } } });
                break;
            case 11:
                proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = sizes[random.Next(sizes.Length)] });
                break;
            case 12:
                graph.Node.Add(new NodeProto { OpType = "Constant", Output = { "c" }, Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t.Clone() } } });
                break;
            default:
                t.Name = random.Next(2) == 0 ? string.Empty : graph.Initializer[0].Name;
                break;
        }
    }
}
