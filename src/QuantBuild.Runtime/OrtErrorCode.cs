namespace QuantBuild.Runtime;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c>), same numbers as the C API.</summary>
public enum OrtErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,
    /// <summary>Unspecified failure.</summary>
    Fail = 1,
    /// <summary>An argument (often an input name, type or shape) is invalid.</summary>
    InvalidArgument = 2,
    /// <summary>A file does not exist.</summary>
    NoSuchFile = 3,
    /// <summary>No model was loaded.</summary>
    NoModel = 4,
    /// <summary>An execution engine failed.</summary>
    EngineError = 5,
    /// <summary>A kernel or the runtime threw while running.</summary>
    RuntimeException = 6,
    /// <summary>The model bytes are not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,
    /// <summary>A model was already loaded.</summary>
    ModelLoaded = 8,
    /// <summary>An operator or feature is not implemented (for example an unknown op).</summary>
    NotImplemented = 9,
    /// <summary>The graph is invalid (for example a node input nothing produces).</summary>
    InvalidGraph = 10,
    /// <summary>An execution provider failed.</summary>
    EpFail = 11,
    /// <summary>Model loading was canceled.</summary>
    ModelLoadCanceled = 12,
    /// <summary>The model needs compiling by an execution provider, and compiling was disabled.</summary>
    ModelRequiresCompilation = 13,
    /// <summary>A requested resource was not found.</summary>
    NotFound = 14,
    /// <summary>The execution provider's device was reset.</summary>
    DeviceReset = 15,
}
