using System.Buffers;
using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Runtime.Native;

namespace QuantBuild.Runtime;

/// <summary>
/// A loaded ONNX model ready to run, shaped like Microsoft.ML.OnnxRuntime's class of the same name.
/// Inputs and outputs are <see cref="DenseTensor"/>s: inputs are pinned only for the duration of
/// <see cref="Run"/>, outputs are copied into managed memory and ORT's values released before it returns.
/// <see cref="Run"/> may be called from several threads at once, as ORT allows.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    // ONNXType.ONNX_TYPE_TENSOR.
    private const int OnnxTypeTensor = 1;

    private readonly OrtHandle _session;
    private readonly string _source;
    private readonly string[] _outputNames;

    /// <summary>Loads the model file at <paramref name="modelPath"/> (external data is read relative to it).</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime rejected the model or the options.</exception>
    /// <exception cref="QuantBuildException">QB6001/QB6002 when the ONNX Runtime library cannot be used.</exception>
    public InferenceSession(string modelPath, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        _source = modelPath;
        OrtApi api = OrtRuntime.Api;
        string operation = $"creating a session from {modelPath}";
        using OrtHandle nativeOptions = CreateNativeOptions(api, options ?? new SessionOptions());
        nint session;
        fixed (byte* path = OrtApi.PathChars(Path.GetFullPath(modelPath)))
        {
            api.Check(api.CreateSession(OrtRuntime.Env.DangerousGetHandle(), path, nativeOptions.DangerousGetHandle(), &session), operation);
        }

        _session = OrtHandle.Own(session, api.ReleaseSession);
        (InputMetadata, OutputMetadata, _outputNames) = ReadMetadataOrRelease(api);
    }

    /// <summary>Loads a model from its serialized bytes (a model with external data needs the path constructor).</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime rejected the model or the options.</exception>
    /// <exception cref="QuantBuildException">QB6001/QB6002 when the ONNX Runtime library cannot be used.</exception>
    public InferenceSession(byte[] model, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _source = $"a {model.Length}-byte in-memory model";
        OrtApi api = OrtRuntime.Api;
        using OrtHandle nativeOptions = CreateNativeOptions(api, options ?? new SessionOptions());
        nint session;
        fixed (byte* data = model)
        {
            api.Check(
                api.CreateSessionFromArray(OrtRuntime.Env.DangerousGetHandle(), data, (nuint)model.Length, nativeOptions.DangerousGetHandle(), &session),
                $"creating a session from {_source}");
        }

        _session = OrtHandle.Own(session, api.ReleaseSession);
        (InputMetadata, OutputMetadata, _outputNames) = ReadMetadataOrRelease(api);
    }

    /// <summary>The model's inputs (graph inputs that are not initializers), in model order.</summary>
    public IReadOnlyDictionary<string, NodeMetadata> InputMetadata { get; }

    /// <summary>The model's outputs, in model order.</summary>
    public IReadOnlyDictionary<string, NodeMetadata> OutputMetadata { get; }

    /// <summary>
    /// Runs the model. <paramref name="outputNames"/> picks and orders the outputs (all of them, in model order, when null).
    /// </summary>
    /// <returns>The requested outputs by name, in the order requested, in managed memory the caller owns.</returns>
    /// <exception cref="OnnxRuntimeException">ORT rejected the inputs (name, type, shape) or failed while running.</exception>
    /// <exception cref="QuantBuildException">QB6011 when an output is not a numeric tensor.</exception>
    public IReadOnlyDictionary<string, DenseTensor> Run(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        IReadOnlyList<string> outputs = outputNames ?? _outputNames;
        (DenseTensor[] tensors, OrtHandle[] values) = RunCore(inputs, outputs, copy: true);
        foreach (OrtHandle value in values)
        {
            value.Dispose();
        }

        var results = new OrderedDictionary<string, DenseTensor>(outputs.Count, StringComparer.Ordinal);
        for (int o = 0; o < outputs.Count; o++)
        {
            results[outputs[o]] = tensors[o];
        }

        return results;
    }

    /// <summary>
    /// Runs the model writing each output straight into a buffer the caller owns (ONNX Runtime's pre-allocated
    /// outputs): no native output is allocated and nothing is copied, so the same buffers can be reused batch after
    /// batch. Each of <paramref name="outputs"/> must have exactly the shape and element type the model produces for
    /// these inputs; ORT fails the run otherwise.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ORT rejected the inputs, or an output buffer's shape or type does not match.</exception>
    public void RunInto(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> outputNames, IReadOnlyList<DenseTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputNames.Count != outputs.Count)
        {
            throw new ArgumentException($"{outputNames.Count} output names for {outputs.Count} output buffers.", nameof(outputs));
        }

        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        OrtApi api = OrtRuntime.Api;
        using var boundInputs = new PinnedValues(inputs.Count);
        // The same wrapping as an input: an OrtValue over the caller's pinned buffer, which ORT then fills.
        using var boundOutputs = new PinnedValues(outputs.Count);
        bool sessionRef = false;
        try
        {
            _session.DangerousAddRef(ref sessionRef);
            boundInputs.AddAll(api, inputs);
            for (int o = 0; o < outputs.Count; o++)
            {
                boundOutputs.Add(api, outputNames[o], outputs[o]);
            }

            nint status;
            fixed (nint* inNames = boundInputs.Names, inValues = boundInputs.Values, outNames = boundOutputs.Names, outValues = boundOutputs.Values)
            {
                status = api.Run(_session.DangerousGetHandle(), 0, inNames, inValues, (nuint)boundInputs.Count, outNames, (nuint)boundOutputs.Count, outValues);
            }

            api.Check(status, $"running {_source} into caller-provided outputs");
        }
        finally
        {
            if (sessionRef)
            {
                _session.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Runs the model and leaves each output where ONNX Runtime wrote it (its allocator, on the CPU its arena, which
    /// hands the same memory back run after run): nothing is copied into managed memory, and the shapes need not be
    /// known before the run, unlike <see cref="RunInto"/>. The tensors of the result are views of that native memory,
    /// valid until the result is disposed; a caller must not keep them (or spans of them) past that.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ORT rejected the inputs (name, type, shape) or failed while running.</exception>
    /// <exception cref="QuantBuildException">QB6011 when an output is not a numeric tensor.</exception>
    public RunOutputs RunOwned(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        (DenseTensor[] tensors, OrtHandle[] values) = RunCore(inputs, outputNames, copy: false);
        return new RunOutputs(tensors, values);
    }

    // One ORT Run: the outputs read (copied into managed memory, or as views of ORT's) and the handles that own ORT's
    // values, handed to the caller; on failure every handle is released here.
    private (DenseTensor[] Tensors, OrtHandle[] Values) RunCore(IReadOnlyDictionary<string, DenseTensor> inputs, IReadOnlyList<string> outputs, bool copy)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        OrtApi api = OrtRuntime.Api;
        int outputCount = outputs.Count;
        var outputNamePtrs = new nint[outputCount];
        var outputValuePtrs = new nint[outputCount];
        var outputValues = new OrtHandle?[outputCount];
        using var bound = new PinnedValues(inputs.Count);
        bool sessionRef = false;
        bool handedOver = false;
        try
        {
            // Keeps a concurrent Dispose from releasing the session while ORT is running it.
            _session.DangerousAddRef(ref sessionRef);
            bound.AddAll(api, inputs);
            for (int o = 0; o < outputCount; o++)
            {
                outputNamePtrs[o] = Marshal.StringToCoTaskMemUTF8(outputs[o]);
            }

            nint status;
            fixed (nint* inNames = bound.Names, inValues = bound.Values, outNames = outputNamePtrs, outValues = outputValuePtrs)
            {
                status = api.Run(_session.DangerousGetHandle(), 0, inNames, inValues, (nuint)bound.Count, outNames, (nuint)outputCount, outValues);
            }

            // Own whatever ORT produced before looking at the status, so nothing leaks on failure.
            for (int o = 0; o < outputCount; o++)
            {
                outputValues[o] = outputValuePtrs[o] == 0 ? null : OrtHandle.Own(outputValuePtrs[o], api.ReleaseValue);
            }

            api.Check(status, $"running {_source}");
            var tensors = new DenseTensor[outputCount];
            for (int o = 0; o < outputCount; o++)
            {
                tensors[o] = ReadOutput(api, outputs[o], outputValues[o]!, copy);
            }

            handedOver = true;
            return (tensors, outputValues.Select(v => v!).ToArray());
        }
        finally
        {
            if (!handedOver)
            {
                foreach (OrtHandle? value in outputValues)
                {
                    value?.Dispose();
                }
            }

            FreeAll(outputNamePtrs);
            if (sessionRef)
            {
                _session.DangerousRelease();
            }
        }
    }

    /// <summary>Releases the native session. Runs already in progress finish first.</summary>
    public void Dispose() => _session.Dispose();

    private static OrtHandle CreateNativeOptions(OrtApi api, SessionOptions options)
    {
        nint raw;
        api.Check(api.CreateSessionOptions(&raw), "creating session options");
        OrtHandle handle = OrtHandle.Own(raw, api.ReleaseSessionOptions);
        try
        {
            nint h = handle.DangerousGetHandle();
            api.Check(api.SetIntraOpNumThreads(h, options.IntraOpNumThreads), $"setting IntraOpNumThreads={options.IntraOpNumThreads}");
            api.Check(api.SetInterOpNumThreads(h, options.InterOpNumThreads), $"setting InterOpNumThreads={options.InterOpNumThreads}");
            api.Check(api.SetSessionGraphOptimizationLevel(h, (int)options.GraphOptimizationLevel), $"setting GraphOptimizationLevel={options.GraphOptimizationLevel}");
            api.Check(api.SetSessionExecutionMode(h, (int)options.ExecutionMode), $"setting ExecutionMode={options.ExecutionMode}");
            if (options.LogSeverityLevel is LogSeverity severity)
            {
                api.Check(api.SetSessionLogSeverityLevel(h, (int)severity), $"setting LogSeverityLevel={severity}");
            }
            if (!string.IsNullOrEmpty(options.OptimizedModelFilePath))
            {
                fixed (byte* path = OrtApi.PathChars(Path.GetFullPath(options.OptimizedModelFilePath)))
                {
                    api.Check(api.SetOptimizedModelFilePath(h, path), $"setting OptimizedModelFilePath={options.OptimizedModelFilePath}");
                }
            }

            foreach (KeyValuePair<string, string> entry in options.ConfigEntries)
            {
                fixed (byte* key = OrtApi.Utf8z(entry.Key), value = OrtApi.Utf8z(entry.Value))
                {
                    api.Check(api.AddSessionConfigEntry(h, key, value), $"adding session config entry {entry.Key}={entry.Value}");
                }
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    // A constructor that throws leaves no object to dispose, so release the session here rather than at finalization.
    private (IReadOnlyDictionary<string, NodeMetadata>, IReadOnlyDictionary<string, NodeMetadata>, string[]) ReadMetadataOrRelease(OrtApi api)
    {
        try
        {
            var (inputs, outputs) = ReadMetadata(api);
            return (inputs, outputs, [.. outputs.Keys]);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private (IReadOnlyDictionary<string, NodeMetadata> Inputs, IReadOnlyDictionary<string, NodeMetadata> Outputs) ReadMetadata(OrtApi api)
    {
        nint session = _session.DangerousGetHandle();
        nuint inputCount, outputCount;
        api.Check(api.SessionGetInputCount(session, &inputCount), "counting the model's inputs");
        api.Check(api.SessionGetOutputCount(session, &outputCount), "counting the model's outputs");

        var inputs = new OrderedDictionary<string, NodeMetadata>((int)inputCount, StringComparer.Ordinal);
        for (nuint i = 0; i < inputCount; i++)
        {
            byte* name;
            api.Check(api.SessionGetInputName(session, i, OrtRuntime.Allocator, &name), $"reading the name of input {i}");
            string inputName = api.TakeAllocatorString(OrtRuntime.Allocator, name);
            nint typeInfo;
            api.Check(api.SessionGetInputTypeInfo(session, i, &typeInfo), $"reading the type of input {inputName}");
            using OrtHandle owned = OrtHandle.Own(typeInfo, api.ReleaseTypeInfo);
            inputs[inputName] = ReadNodeMetadata(api, typeInfo, inputName);
        }

        var outputs = new OrderedDictionary<string, NodeMetadata>((int)outputCount, StringComparer.Ordinal);
        for (nuint i = 0; i < outputCount; i++)
        {
            byte* name;
            api.Check(api.SessionGetOutputName(session, i, OrtRuntime.Allocator, &name), $"reading the name of output {i}");
            string outputName = api.TakeAllocatorString(OrtRuntime.Allocator, name);
            nint typeInfo;
            api.Check(api.SessionGetOutputTypeInfo(session, i, &typeInfo), $"reading the type of output {outputName}");
            using OrtHandle owned = OrtHandle.Own(typeInfo, api.ReleaseTypeInfo);
            outputs[outputName] = ReadNodeMetadata(api, typeInfo, outputName);
        }

        return (inputs, outputs);
    }

    private static NodeMetadata ReadNodeMetadata(OrtApi api, nint typeInfo, string name)
    {
        int onnxType;
        api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), $"reading the kind of {name}");
        nint tensorInfo;
        api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), $"reading the tensor type of {name}");
        if (onnxType != OnnxTypeTensor || tensorInfo == 0)
        {
            return new NodeMetadata(false, ElementType.Undefined, [], []);
        }

        // tensorInfo belongs to typeInfo: read everything before the caller releases it.
        int elementType;
        nuint rank;
        api.Check(api.GetTensorElementType(tensorInfo, &elementType), $"reading the element type of {name}");
        api.Check(api.GetDimensionsCount(tensorInfo, &rank), $"reading the rank of {name}");
        var dims = new long[(int)rank];
        var symbolic = new nint[(int)rank];
        fixed (long* d = dims)
        fixed (nint* s = symbolic)
        {
            api.Check(api.GetDimensions(tensorInfo, d, rank), $"reading the shape of {name}");
            api.Check(api.GetSymbolicDimensions(tensorInfo, (byte**)s, rank), $"reading the dimension names of {name}");
        }

        var names = new string[(int)rank];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = symbolic[i] == 0 ? string.Empty : Marshal.PtrToStringUTF8(symbolic[i]) ?? string.Empty;
        }

        return new NodeMetadata(true, (ElementType)elementType, dims, names);
    }

    private static OrtHandle CreateInputValue(OrtApi api, string name, DenseTensor tensor, out MemoryHandle pin)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        long[] shape = tensor.ShapeArray();
        nint value;
        fixed (long* dims = shape)
        {
            if (tensor.Data.Length == 0)
            {
                // An empty tensor has no buffer to pin; let ORT allocate its zero bytes.
                pin = default;
                api.Check(api.CreateTensorAsOrtValue(OrtRuntime.Allocator, dims, (nuint)shape.Length, (int)tensor.ElementType, &value), $"creating input {name}");
            }
            else
            {
                pin = tensor.Data.Pin();
                api.Check(
                    api.CreateTensorWithDataAsOrtValue(
                        OrtRuntime.CpuMemoryInfo.DangerousGetHandle(), pin.Pointer, (nuint)tensor.Data.Length, dims, (nuint)shape.Length, (int)tensor.ElementType, &value),
                    $"creating input {name} ({tensor})");
            }
        }

        return OrtHandle.Own(value, api.ReleaseValue);
    }

    // The output as a tensor: copied into a managed array, or (copy false) a view of the OrtValue's own memory.
    private static DenseTensor ReadOutput(OrtApi api, string name, OrtHandle value, bool copy)
    {
        nint v = value.DangerousGetHandle();
        int onnxType;
        api.Check(api.GetValueType(v, &onnxType), $"reading the kind of output {name}");
        if (onnxType != OnnxTypeTensor)
        {
            throw Unsupported(name, "is a sequence, map or optional, not a tensor");
        }

        nint info;
        api.Check(api.GetTensorTypeAndShape(v, &info), $"reading the type of output {name}");
        int elementType;
        long[] shape;
        using (OrtHandle.Own(info, api.ReleaseTensorTypeAndShapeInfo))
        {
            nuint rank;
            api.Check(api.GetTensorElementType(info, &elementType), $"reading the element type of output {name}");
            api.Check(api.GetDimensionsCount(info, &rank), $"reading the rank of output {name}");
            shape = new long[(int)rank];
            fixed (long* d = shape)
            {
                api.Check(api.GetDimensions(info, d, rank), $"reading the shape of output {name}");
            }
        }

        var type = (ElementType)elementType;
        if (ElementTypeInfo.BitsPerElement(type) == 0)
        {
            throw Unsupported(name, $"has element type {ElementTypeInfo.OnnxName(type)}");
        }

        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        long bytes = ElementTypeInfo.ByteCount(type, count);
        if (bytes > Array.MaxLength)
        {
            throw Unsupported(name, $"is {bytes} bytes, more than one managed array holds");
        }

        if (bytes == 0)
        {
            return new DenseTensor(type, shape, Array.Empty<byte>());
        }

        void* source;
        api.Check(api.GetTensorMutableData(v, &source), $"reading the data of output {name}");
        if (!copy)
        {
            return new DenseTensor(type, shape, new NativeBytes((byte*)source, (int)bytes).Memory);
        }

        var data = new byte[bytes];
        new ReadOnlySpan<byte>(source, (int)bytes).CopyTo(data);
        return new DenseTensor(type, shape, data);
    }

    private static QuantBuildException Unsupported(string name, string what) => new(
        "QB6011",
        $"Model output '{name}' {what}; QuantBuild's runtime binding returns numeric tensors only.",
        "Ask only for tensor outputs through Run's outputNames, or change the model so this output is a numeric tensor.");

    /// <summary>
    /// Named OrtValues over pinned managed buffers, in the arrays <c>OrtApi.Run</c> takes: a run's inputs, or the
    /// caller's output buffers for <see cref="RunInto"/>. Dispose releases the values, then the pins they point into,
    /// then the names; a slot that was never filled (a failure half way) holds nothing to release.
    /// </summary>
    private sealed class PinnedValues(int capacity) : IDisposable
    {
        private readonly OrtHandle?[] _handles = new OrtHandle?[capacity];
        private readonly MemoryHandle[] _pins = new MemoryHandle[capacity];

        /// <summary>UTF-8 names (CoTaskMem), one per value.</summary>
        public nint[] Names { get; } = new nint[capacity];

        /// <summary>The OrtValue handles, owned by this object.</summary>
        public nint[] Values { get; } = new nint[capacity];

        /// <summary>Values added so far.</summary>
        public int Count { get; private set; }

        public void AddAll(OrtApi api, IReadOnlyDictionary<string, DenseTensor> tensors)
        {
            foreach (KeyValuePair<string, DenseTensor> tensor in tensors)
            {
                Add(api, tensor.Key, tensor.Value);
            }
        }

        public void Add(OrtApi api, string name, DenseTensor tensor)
        {
            int i = Count++;
            Names[i] = Marshal.StringToCoTaskMemUTF8(name);
            _handles[i] = CreateInputValue(api, name, tensor, out _pins[i]);
            Values[i] = _handles[i]!.DangerousGetHandle();
        }

        public void Dispose()
        {
            // Values first: they point into the pinned buffers.
            foreach (OrtHandle? value in _handles)
            {
                value?.Dispose();
            }

            foreach (MemoryHandle pin in _pins)
            {
                pin.Dispose();
            }

            FreeAll(Names);
        }
    }

    private static void FreeAll(nint[] strings)
    {
        foreach (nint s in strings)
        {
            Marshal.FreeCoTaskMem(s);
        }
    }
}
