using Google.Protobuf;
using Google.Protobuf.Collections;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Conversion;

/// <summary>
/// The graph IR back to protobuf messages. Only fields the IR holds are set, so a loaded model saves to the
/// same content. Tensor bytes are wrapped, not copied: the messages are valid only while the IR is unchanged.
/// Every non-string tensor is written as raw_data, whichever typed field it was read from.
/// </summary>
internal static class IrToProto
{
    public static ModelProto Model(OnnxModel model)
    {
        var proto = new ModelProto { Graph = Graph(model.Graph) };
        if (model.IrVersion is long ir)
        {
            proto.IrVersion = ir;
        }

        if (model.ProducerName is not null)
        {
            proto.ProducerName = model.ProducerName;
        }

        if (model.ProducerVersion is not null)
        {
            proto.ProducerVersion = model.ProducerVersion;
        }

        if (model.Domain is not null)
        {
            proto.Domain = model.Domain;
        }

        if (model.ModelVersion is long version)
        {
            proto.ModelVersion = version;
        }

        if (model.DocString is not null)
        {
            proto.DocString = model.DocString;
        }

        Opsets(model.OpsetImports, proto.OpsetImport);
        Metadata(model.MetadataProps, proto.MetadataProps);
        foreach (TrainingInfo t in model.TrainingInfo)
        {
            var info = new TrainingInfoProto
            {
                Initialization = t.Initialization is null ? null : Graph(t.Initialization),
                Algorithm = t.Algorithm is null ? null : Graph(t.Algorithm),
            };
            Metadata(t.InitializationBinding, info.InitializationBinding);
            Metadata(t.UpdateBinding, info.UpdateBinding);
            proto.TrainingInfo.Add(info);
        }

        foreach (FunctionDef f in model.Functions)
        {
            proto.Functions.Add(Function(f));
        }

        foreach (byte[] c in OnnxMessageFields.Of(model.Preserved))
        {
            proto.Configuration.Add(DeviceConfigurationProto.Parser.ParseFrom(c));
        }

        return proto;
    }

    public static GraphProto Graph(Graph graph)
    {
        var proto = new GraphProto();
        if (graph.Name is not null)
        {
            proto.Name = graph.Name;
        }

        if (graph.DocString is not null)
        {
            proto.DocString = graph.DocString;
        }

        foreach (Node n in graph.Nodes)
        {
            proto.Node.Add(Node(n));
        }

        foreach (TensorValue t in graph.Initializers)
        {
            proto.Initializer.Add(Tensor(t));
        }

        foreach (SparseTensorValue s in graph.SparseInitializers)
        {
            proto.SparseInitializer.Add(Sparse(s));
        }

        ValueInfos(graph.Inputs, proto.Input);
        ValueInfos(graph.Outputs, proto.Output);
        ValueInfos(graph.ValueInfo, proto.ValueInfo);
        foreach (Abstractions.Ir.TensorAnnotation a in graph.QuantizationAnnotations)
        {
            var annotation = new Proto.TensorAnnotation();
            if (a.TensorName is not null)
            {
                annotation.TensorName = a.TensorName;
            }

            Metadata(a.QuantParameterTensorNames, annotation.QuantParameterTensorNames);
            proto.QuantizationAnnotation.Add(annotation);
        }

        Metadata(graph.MetadataProps, proto.MetadataProps);
        return proto;
    }

    public static TensorProto Tensor(TensorValue tensor)
    {
        var proto = new TensorProto();
        proto.Dims.AddRange(tensor.Dims);
        if (tensor.ElementType != ElementType.Undefined)
        {
            proto.DataType = (int)tensor.ElementType;
        }

        if (OnnxTensorFields.SegmentOf(tensor) is { } segment)
        {
            proto.Segment = new TensorProto.Types.Segment();
            if (segment.Begin is long begin)
            {
                proto.Segment.Begin = begin;
            }

            if (segment.End is long end)
            {
                proto.Segment.End = end;
            }
        }

        if (tensor.Name is not null)
        {
            proto.Name = tensor.Name;
        }

        if (tensor.DocString is not null)
        {
            proto.DocString = tensor.DocString;
        }

        if (tensor.ElementType == ElementType.String)
        {
            foreach (byte[] s in tensor.StringData)
            {
                proto.StringData.Add(ByteString.CopyFrom(s));
            }
        }
        else if (tensor.ElementType != ElementType.Undefined || !tensor.Data.IsEmpty)
        {
            proto.RawData = TensorData.Wrap(tensor.Data);
        }

        Metadata(tensor.MetadataProps, proto.MetadataProps);
        return proto;
    }

    private static NodeProto Node(Node node)
    {
        var proto = new NodeProto { OpType = node.OpType };
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        if (node.Name is not null)
        {
            proto.Name = node.Name;
        }

        if (node.Domain is not null)
        {
            proto.Domain = node.Domain;
        }

        if (node.Overload is not null)
        {
            proto.Overload = node.Overload;
        }

        if (node.DocString is not null)
        {
            proto.DocString = node.DocString;
        }

        foreach (NodeAttribute a in node.Attributes)
        {
            proto.Attribute.Add(Attribute(a));
        }

        Metadata(node.MetadataProps, proto.MetadataProps);
        foreach (byte[] c in OnnxMessageFields.Of(node.Preserved))
        {
            proto.DeviceConfigurations.Add(NodeDeviceConfigurationProto.Parser.ParseFrom(c));
        }

        return proto;
    }

    private static AttributeProto Attribute(NodeAttribute attribute)
    {
        var proto = new AttributeProto { Name = attribute.Name };
        if (attribute.Type != Abstractions.Ir.AttributeType.Undefined)
        {
            proto.Type = (AttributeProto.Types.AttributeType)attribute.Type;
        }

        if (attribute.RefAttrName is not null)
        {
            proto.RefAttrName = attribute.RefAttrName;
        }

        if (attribute.DocString is not null)
        {
            proto.DocString = attribute.DocString;
        }

        if (attribute.Float is float f)
        {
            proto.F = f;
        }

        if (attribute.Int is long i)
        {
            proto.I = i;
        }

        if (attribute.String is not null)
        {
            proto.S = ByteString.CopyFrom(attribute.String);
        }

        proto.T = attribute.Tensor is null ? null : Tensor(attribute.Tensor);
        proto.G = attribute.Graph is null ? null : Graph(attribute.Graph);
        proto.SparseTensor = attribute.SparseTensor is null ? null : Sparse(attribute.SparseTensor);
        proto.Tp = attribute.TypeInfo is null ? null : Type(attribute.TypeInfo);
        proto.Floats.AddRange(attribute.Floats);
        proto.Ints.AddRange(attribute.Ints);
        foreach (byte[] s in attribute.Strings)
        {
            proto.Strings.Add(ByteString.CopyFrom(s));
        }

        foreach (TensorValue t in attribute.Tensors)
        {
            proto.Tensors.Add(Tensor(t));
        }

        foreach (Graph g in attribute.Graphs)
        {
            proto.Graphs.Add(Graph(g));
        }

        foreach (SparseTensorValue s in attribute.SparseTensors)
        {
            proto.SparseTensors.Add(Sparse(s));
        }

        foreach (TypeInfo t in attribute.TypeInfos)
        {
            proto.TypeProtos.Add(Type(t));
        }

        return proto;
    }

    private static SparseTensorProto Sparse(SparseTensorValue sparse)
    {
        var proto = new SparseTensorProto { Values = Tensor(sparse.Values), Indices = Tensor(sparse.Indices) };
        proto.Dims.AddRange(sparse.Dims);
        return proto;
    }

    private static FunctionProto Function(FunctionDef function)
    {
        var proto = new FunctionProto { Name = function.Name };
        if (function.Domain is not null)
        {
            proto.Domain = function.Domain;
        }

        if (function.Overload is not null)
        {
            proto.Overload = function.Overload;
        }

        if (function.DocString is not null)
        {
            proto.DocString = function.DocString;
        }

        proto.Input.AddRange(function.Inputs);
        proto.Output.AddRange(function.Outputs);
        proto.Attribute.AddRange(function.Attributes);
        foreach (NodeAttribute a in function.AttributeDefaults)
        {
            proto.AttributeProto.Add(Attribute(a));
        }

        foreach (Node n in function.Nodes)
        {
            proto.Node.Add(Node(n));
        }

        Opsets(function.OpsetImports, proto.OpsetImport);
        ValueInfos(function.ValueInfo, proto.ValueInfo);
        Metadata(function.MetadataProps, proto.MetadataProps);
        return proto;
    }

    private static void ValueInfos(IReadOnlyList<ValueInfo> source, RepeatedField<ValueInfoProto> target)
    {
        foreach (ValueInfo v in source)
        {
            var proto = new ValueInfoProto { Name = v.Name, Type = v.Type is null ? null : Type(v.Type) };
            if (v.DocString is not null)
            {
                proto.DocString = v.DocString;
            }

            Metadata(v.MetadataProps, proto.MetadataProps);
            target.Add(proto);
        }
    }

    private static TypeProto Type(TypeInfo type)
    {
        var proto = new TypeProto();
        switch (type)
        {
            case SparseTensorTypeInfo s:
                proto.SparseTensorType = new TypeProto.Types.SparseTensor { ElemType = (int)s.ElementType, Shape = Shape(s.Shape) };
                break;
            case TensorTypeInfo t:
                proto.TensorType = new TypeProto.Types.Tensor { ElemType = (int)t.ElementType, Shape = Shape(t.Shape) };
                break;
            case SequenceTypeInfo s:
                proto.SequenceType = new TypeProto.Types.Sequence { ElemType = s.ElementType is null ? null : Type(s.ElementType) };
                break;
            case MapTypeInfo m:
                proto.MapType = new TypeProto.Types.Map { KeyType = (int)m.KeyType, ValueType = m.ValueType is null ? null : Type(m.ValueType) };
                break;
            case OptionalTypeInfo o:
                proto.OptionalType = new TypeProto.Types.Optional { ElemType = o.ElementType is null ? null : Type(o.ElementType) };
                break;
            case OpaqueTypeInfo o:
                proto.OpaqueType = new TypeProto.Types.Opaque();
                if (o.Domain is not null)
                {
                    proto.OpaqueType.Domain = o.Domain;
                }

                if (o.Name is not null)
                {
                    proto.OpaqueType.Name = o.Name;
                }

                break;
        }

        if (type.Denotation is not null)
        {
            proto.Denotation = type.Denotation;
        }

        return proto;
    }

    private static TensorShapeProto? Shape(TensorShape? shape)
    {
        if (shape is null)
        {
            return null;
        }

        var proto = new TensorShapeProto();
        foreach (Dimension d in shape.Dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (d.Value is long value)
            {
                dim.DimValue = value;
            }
            else if (d.Param is not null)
            {
                dim.DimParam = d.Param;
            }

            if (d.Denotation is not null)
            {
                dim.Denotation = d.Denotation;
            }

            proto.Dim.Add(dim);
        }

        return proto;
    }

    private static void Opsets(IReadOnlyList<OpsetImport> source, RepeatedField<OperatorSetIdProto> target)
    {
        foreach (OpsetImport o in source)
        {
            target.Add(new OperatorSetIdProto { Domain = o.Domain, Version = o.Version });
        }
    }

    private static void Metadata(IReadOnlyList<MetadataEntry> source, RepeatedField<StringStringEntryProto> target)
    {
        foreach (MetadataEntry e in source)
        {
            target.Add(new StringStringEntryProto { Key = e.Key, Value = e.Value });
        }
    }
}
