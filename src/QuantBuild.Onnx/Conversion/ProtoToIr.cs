using Google.Protobuf;
using Google.Protobuf.Collections;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Serialization;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Conversion;

/// <summary>
/// Protobuf messages to the graph IR, field for field. Presence is kept (an absent optional becomes null)
/// so that saving writes back exactly what was there; tensor bytes are shared with the parsed buffer.
/// </summary>
internal sealed class ProtoToIr
{
    private readonly string _sourcePath;
    private readonly ExternalDataReader? _external;
    private readonly ReadOnlyMemory<byte> _source;
    private readonly HashSet<(long Offset, long Length)>? _lifted;

    /// <param name="sourcePath">The file, for error messages.</param>
    /// <param name="external">Reads side files, or null when there is no folder to read them from.</param>
    /// <param name="source">The file's bytes, which lifted tensors slice.</param>
    /// <param name="lifted">The ranges <see cref="RawDataLifter"/> replaced, the only ones honoured.</param>
    public ProtoToIr(string sourcePath, ExternalDataReader? external, ReadOnlyMemory<byte> source = default, HashSet<(long, long)>? lifted = null)
    {
        _sourcePath = sourcePath;
        _external = external;
        _source = source;
        _lifted = lifted;
    }

    public OnnxModel Model(ModelProto proto)
    {
        var model = new OnnxModel
        {
            IrVersion = proto.HasIrVersion ? proto.IrVersion : null,
            ProducerName = proto.HasProducerName ? proto.ProducerName : null,
            ProducerVersion = proto.HasProducerVersion ? proto.ProducerVersion : null,
            Domain = proto.HasDomain ? proto.Domain : null,
            ModelVersion = proto.HasModelVersion ? proto.ModelVersion : null,
            DocString = proto.HasDocString ? proto.DocString : null,
            Graph = proto.Graph is null ? new Graph() : Graph(proto.Graph),
        };
        Opsets(proto.OpsetImport, model.OpsetImports);
        Metadata(proto.MetadataProps, model.MetadataProps);
        foreach (TrainingInfoProto t in proto.TrainingInfo)
        {
            var info = new TrainingInfo
            {
                Initialization = t.Initialization is null ? null : Graph(t.Initialization),
                Algorithm = t.Algorithm is null ? null : Graph(t.Algorithm),
            };
            Metadata(t.InitializationBinding, info.InitializationBinding);
            Metadata(t.UpdateBinding, info.UpdateBinding);
            model.TrainingInfo.Add(info);
        }

        foreach (FunctionProto f in proto.Functions)
        {
            model.Functions.Add(Function(f));
        }

        if (proto.Configuration.Count > 0)
        {
            model.Preserved = new OnnxMessageFields(proto.Configuration.Select(c => c.ToByteArray()).ToList());
        }

        return model;
    }

    public Graph Graph(GraphProto proto)
    {
        var graph = new Graph
        {
            Name = proto.HasName ? proto.Name : null,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        foreach (NodeProto n in proto.Node)
        {
            graph.Nodes.Add(Node(n));
        }

        foreach (TensorProto t in proto.Initializer)
        {
            graph.Initializers.Add(Tensor(t));
        }

        foreach (SparseTensorProto s in proto.SparseInitializer)
        {
            graph.SparseInitializers.Add(Sparse(s));
        }

        ValueInfos(proto.Input, graph.Inputs);
        ValueInfos(proto.Output, graph.Outputs);
        ValueInfos(proto.ValueInfo, graph.ValueInfo);
        foreach (Proto.TensorAnnotation a in proto.QuantizationAnnotation)
        {
            var annotation = new Abstractions.Ir.TensorAnnotation { TensorName = a.HasTensorName ? a.TensorName : null };
            Metadata(a.QuantParameterTensorNames, annotation.QuantParameterTensorNames);
            graph.QuantizationAnnotations.Add(annotation);
        }

        Metadata(proto.MetadataProps, graph.MetadataProps);
        return graph;
    }

    public TensorValue Tensor(TensorProto proto)
    {
        var type = (ElementType)proto.DataType;
        var tensor = new TensorValue
        {
            Name = proto.HasName ? proto.Name : null,
            ElementType = type,
            Dims = proto.Dims.Count == 0 ? Array.Empty<long>() : [.. proto.Dims],
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        Metadata(proto.MetadataProps, tensor.MetadataProps);
        TensorSegment? segment = proto.Segment is null ? null
            : new TensorSegment(proto.Segment.HasBegin ? proto.Segment.Begin : null, proto.Segment.HasEnd ? proto.Segment.End : null);
        tensor.Preserved = segment is null ? null : new OnnxTensorFields(null, segment);

        bool checkLength = type != ElementType.String && TensorData.HasAnyData(proto);
        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            ExternalDataReference reference = ExternalReference(proto);
            if (reference.Location == RawDataLifter.BufferLocation && _lifted is not null
                && _lifted.Contains((reference.Offset ?? -1, reference.Length ?? -1)))
            {
                // Was inline raw_data; the lifter moved it aside so the bytes are shared, not copied.
                tensor.Data = _source.Slice((int)reference.Offset!.Value, (int)reference.Length!.Value);
            }
            else
            {
                tensor.Preserved = new OnnxTensorFields(reference, segment);
                tensor.Data = _external is null
                    ? throw ModelFileErrors.ExternalFileMissing(_sourcePath, reference.Location, proto.Name)
                    : _external.Read(proto.Name, reference);
            }

            checkLength = true;
        }
        else if (type == ElementType.String)
        {
            foreach (ByteString s in proto.StringData)
            {
                tensor.StringData.Add(s.ToByteArray());
            }
        }
        else
        {
            tensor.Data = TensorData.ToRawBytes(proto, _sourcePath);
        }

        if (checkLength)
        {
            TensorData.CheckLength(proto, type, tensor.Data.Length, _sourcePath);
        }

        return tensor;
    }

    private Node Node(NodeProto proto)
    {
        var node = new Node
        {
            Name = proto.HasName ? proto.Name : null,
            OpType = proto.OpType,
            Domain = proto.HasDomain ? proto.Domain : null,
            Overload = proto.HasOverload ? proto.Overload : null,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        node.Inputs.AddRange(proto.Input);
        node.Outputs.AddRange(proto.Output);
        foreach (AttributeProto a in proto.Attribute)
        {
            node.Attributes.Add(Attribute(a));
        }

        Metadata(proto.MetadataProps, node.MetadataProps);
        if (proto.DeviceConfigurations.Count > 0)
        {
            node.Preserved = new OnnxMessageFields(proto.DeviceConfigurations.Select(c => c.ToByteArray()).ToList());
        }

        return node;
    }

    private NodeAttribute Attribute(AttributeProto proto)
    {
        var attribute = new NodeAttribute
        {
            Name = proto.Name,
            Type = proto.HasType ? (Abstractions.Ir.AttributeType)proto.Type : InferType(proto),
            RefAttrName = proto.HasRefAttrName ? proto.RefAttrName : null,
            DocString = proto.HasDocString ? proto.DocString : null,
            Float = proto.HasF ? proto.F : null,
            Int = proto.HasI ? proto.I : null,
            String = proto.HasS ? proto.S.ToByteArray() : null,
            Tensor = proto.T is null ? null : Tensor(proto.T),
            Graph = proto.G is null ? null : Graph(proto.G),
            SparseTensor = proto.SparseTensor is null ? null : Sparse(proto.SparseTensor),
            TypeInfo = proto.Tp is null ? null : Type(proto.Tp),
        };
        attribute.Floats.AddRange(proto.Floats);
        attribute.Ints.AddRange(proto.Ints);
        foreach (ByteString s in proto.Strings)
        {
            attribute.Strings.Add(s.ToByteArray());
        }

        foreach (TensorProto t in proto.Tensors)
        {
            attribute.Tensors.Add(Tensor(t));
        }

        foreach (GraphProto g in proto.Graphs)
        {
            attribute.Graphs.Add(Graph(g));
        }

        foreach (SparseTensorProto s in proto.SparseTensors)
        {
            attribute.SparseTensors.Add(Sparse(s));
        }

        foreach (TypeProto t in proto.TypeProtos)
        {
            attribute.TypeInfos.Add(Type(t) ?? new TypeInfo());
        }

        return attribute;
    }

    // IR version 1 files carry no type discriminator; the first populated value field decides.
    private static Abstractions.Ir.AttributeType InferType(AttributeProto a) =>
        a.HasF ? Abstractions.Ir.AttributeType.Float
        : a.HasI ? Abstractions.Ir.AttributeType.Int
        : a.HasS ? Abstractions.Ir.AttributeType.String
        : a.T is not null ? Abstractions.Ir.AttributeType.Tensor
        : a.G is not null ? Abstractions.Ir.AttributeType.Graph
        : a.SparseTensor is not null ? Abstractions.Ir.AttributeType.SparseTensor
        : a.Tp is not null ? Abstractions.Ir.AttributeType.TypeProto
        : a.Floats.Count > 0 ? Abstractions.Ir.AttributeType.Floats
        : a.Ints.Count > 0 ? Abstractions.Ir.AttributeType.Ints
        : a.Strings.Count > 0 ? Abstractions.Ir.AttributeType.Strings
        : a.Tensors.Count > 0 ? Abstractions.Ir.AttributeType.Tensors
        : a.Graphs.Count > 0 ? Abstractions.Ir.AttributeType.Graphs
        : a.SparseTensors.Count > 0 ? Abstractions.Ir.AttributeType.SparseTensors
        : a.TypeProtos.Count > 0 ? Abstractions.Ir.AttributeType.TypeProtos
        : Abstractions.Ir.AttributeType.Undefined;

    private SparseTensorValue Sparse(SparseTensorProto proto) => new()
    {
        Values = proto.Values is null ? new TensorValue() : Tensor(proto.Values),
        Indices = proto.Indices is null ? new TensorValue() : Tensor(proto.Indices),
        Dims = [.. proto.Dims],
    };

    private FunctionDef Function(FunctionProto proto)
    {
        var function = new FunctionDef
        {
            Name = proto.Name,
            Domain = proto.HasDomain ? proto.Domain : null,
            Overload = proto.HasOverload ? proto.Overload : null,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        function.Inputs.AddRange(proto.Input);
        function.Outputs.AddRange(proto.Output);
        function.Attributes.AddRange(proto.Attribute);
        foreach (AttributeProto a in proto.AttributeProto)
        {
            function.AttributeDefaults.Add(Attribute(a));
        }

        foreach (NodeProto n in proto.Node)
        {
            function.Nodes.Add(Node(n));
        }

        Opsets(proto.OpsetImport, function.OpsetImports);
        ValueInfos(proto.ValueInfo, function.ValueInfo);
        Metadata(proto.MetadataProps, function.MetadataProps);
        return function;
    }

    private static void ValueInfos(RepeatedField<ValueInfoProto> source, IrList<ValueInfo> target)
    {
        foreach (ValueInfoProto v in source)
        {
            var info = new ValueInfo
            {
                Name = v.Name,
                Type = v.Type is null ? null : Type(v.Type),
                DocString = v.HasDocString ? v.DocString : null,
            };
            Metadata(v.MetadataProps, info.MetadataProps);
            target.Add(info);
        }
    }

    private static TypeInfo Type(TypeProto proto)
    {
        TypeInfo type = proto.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => new TensorTypeInfo
            {
                ElementType = (ElementType)proto.TensorType.ElemType,
                Shape = Shape(proto.TensorType.Shape),
            },
            TypeProto.ValueOneofCase.SparseTensorType => new SparseTensorTypeInfo
            {
                ElementType = (ElementType)proto.SparseTensorType.ElemType,
                Shape = Shape(proto.SparseTensorType.Shape),
            },
            TypeProto.ValueOneofCase.SequenceType => new SequenceTypeInfo
            {
                ElementType = proto.SequenceType.ElemType is null ? null : Type(proto.SequenceType.ElemType),
            },
            TypeProto.ValueOneofCase.MapType => new MapTypeInfo
            {
                KeyType = (ElementType)proto.MapType.KeyType,
                ValueType = proto.MapType.ValueType is null ? null : Type(proto.MapType.ValueType),
            },
            TypeProto.ValueOneofCase.OptionalType => new OptionalTypeInfo
            {
                ElementType = proto.OptionalType.ElemType is null ? null : Type(proto.OptionalType.ElemType),
            },
            TypeProto.ValueOneofCase.OpaqueType => new OpaqueTypeInfo
            {
                Domain = proto.OpaqueType.HasDomain ? proto.OpaqueType.Domain : null,
                Name = proto.OpaqueType.HasName ? proto.OpaqueType.Name : null,
            },
            _ => new TypeInfo(),
        };
        type.Denotation = proto.HasDenotation ? proto.Denotation : null;
        return type;
    }

    private static TensorShape? Shape(TensorShapeProto? proto)
    {
        if (proto is null)
        {
            return null;
        }

        var shape = new TensorShape();
        foreach (TensorShapeProto.Types.Dimension d in proto.Dim)
        {
            shape.Dims.Add(new Dimension
            {
                Value = d.HasDimValue ? d.DimValue : null,
                Param = d.HasDimParam ? d.DimParam : null,
                Denotation = d.HasDenotation ? d.Denotation : null,
            });
        }

        return shape;
    }

    private static ExternalDataReference ExternalReference(TensorProto proto)
    {
        var reference = new ExternalDataReference();
        foreach (StringStringEntryProto e in proto.ExternalData)
        {
            switch (e.Key)
            {
                case "location":
                    reference.Location = e.Value;
                    break;
                case "offset" when long.TryParse(e.Value, out long offset):
                    reference.Offset = offset;
                    break;
                case "length" when long.TryParse(e.Value, out long length):
                    reference.Length = length;
                    break;
                case "checksum":
                    reference.Checksum = e.Value;
                    break;
                default:
                    reference.Other.Add(new MetadataEntry(e.Key, e.Value));
                    break;
            }
        }

        return reference;
    }

    private static void Opsets(RepeatedField<OperatorSetIdProto> source, IrList<OpsetImport> target)
    {
        foreach (OperatorSetIdProto o in source)
        {
            target.Add(new OpsetImport(o.Domain, o.Version));
        }
    }

    private static void Metadata(RepeatedField<StringStringEntryProto> source, IrList<MetadataEntry> target)
    {
        foreach (StringStringEntryProto e in source)
        {
            target.Add(new MetadataEntry(e.Key, e.Value));
        }
    }
}
