using System.Runtime.InteropServices;
using System.Text;

namespace QuantBuild.Runtime.Native;

/// <summary>
/// The slice of ONNX Runtime's C API we use, as typed function pointers read from the <c>OrtApi</c> table.
/// Pointer-sized handles are <see cref="nint"/>; every function returning <c>OrtStatus*</c> goes through
/// <see cref="Check"/> so no status leaks and every failure becomes an <see cref="OnnxRuntimeException"/>.
/// </summary>
internal sealed unsafe class OrtApi
{
    public readonly delegate* unmanaged[Cdecl]<nint, int> GetErrorCode;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*> GetErrorMessage;
    public readonly delegate* unmanaged[Cdecl]<int, byte*, nint*, nint> CreateEnv;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint> CreateSession;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray;
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> Run;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateSessionOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> SetOptimizedModelFilePath;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionExecutionMode;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionLogSeverityLevel;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionGraphOptimizationLevel;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetIntraOpNumThreads;
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetInterOpNumThreads;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetInputCount;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetOutputCount;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetInputTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetInputName;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetOutputName;
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, int, nint*, nint> CreateTensorAsOrtValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void**, nint> GetTensorMutableData;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetOnnxTypeFromTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetTensorElementType;
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetDimensionsCount;
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, nint> GetDimensions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint> GetSymbolicDimensions;
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> GetTensorTypeAndShape;
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetValueType;
    public readonly delegate* unmanaged[Cdecl]<int, int, nint*, nint> CreateCpuMemoryInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> AllocatorFree;
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> GetAllocatorWithDefaultOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseEnv;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseStatus;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseMemoryInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSession;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseValue;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTypeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorTypeAndShapeInfo;
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSessionOptions;
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint> AddSessionConfigEntry;

    /// <summary>Reads the function pointers out of the table <paramref name="table"/> returned by <c>GetApi</c>.</summary>
    public OrtApi(nint table, string version)
    {
        Version = version;
        void** t = (void**)table;
        GetErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)t[OrtApiIndex.GetErrorCode];
        GetErrorMessage = (delegate* unmanaged[Cdecl]<nint, byte*>)t[OrtApiIndex.GetErrorMessage];
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)t[OrtApiIndex.CreateEnv];
        CreateSession = (delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint>)t[OrtApiIndex.CreateSession];
        CreateSessionFromArray = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint>)t[OrtApiIndex.CreateSessionFromArray];
        Run = (delegate* unmanaged[Cdecl]<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)t[OrtApiIndex.Run];
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiIndex.CreateSessionOptions];
        SetOptimizedModelFilePath = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[OrtApiIndex.SetOptimizedModelFilePath];
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiIndex.SetSessionExecutionMode];
        SetSessionLogSeverityLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiIndex.SetSessionLogSeverityLevel];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiIndex.SetSessionGraphOptimizationLevel];
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiIndex.SetIntraOpNumThreads];
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[OrtApiIndex.SetInterOpNumThreads];
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiIndex.SessionGetInputCount];
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiIndex.SessionGetOutputCount];
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[OrtApiIndex.SessionGetInputTypeInfo];
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[OrtApiIndex.SessionGetOutputTypeInfo];
        SessionGetInputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[OrtApiIndex.SessionGetInputName];
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[OrtApiIndex.SessionGetOutputName];
        CreateTensorAsOrtValue = (delegate* unmanaged[Cdecl]<nint, long*, nuint, int, nint*, nint>)t[OrtApiIndex.CreateTensorAsOrtValue];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)t[OrtApiIndex.CreateTensorWithDataAsOrtValue];
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<nint, void**, nint>)t[OrtApiIndex.GetTensorMutableData];
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiIndex.CastTypeInfoToTensorInfo];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiIndex.GetOnnxTypeFromTypeInfo];
        GetTensorElementType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiIndex.GetTensorElementType];
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[OrtApiIndex.GetDimensionsCount];
        GetDimensions = (delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)t[OrtApiIndex.GetDimensions];
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)t[OrtApiIndex.GetSymbolicDimensions];
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[OrtApiIndex.GetTensorTypeAndShape];
        GetValueType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[OrtApiIndex.GetValueType];
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, nint*, nint>)t[OrtApiIndex.CreateCpuMemoryInfo];
        AllocatorFree = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[OrtApiIndex.AllocatorFree];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[OrtApiIndex.GetAllocatorWithDefaultOptions];
        ReleaseEnv = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseEnv];
        ReleaseStatus = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseStatus];
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseMemoryInfo];
        ReleaseSession = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseSession];
        ReleaseValue = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseValue];
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseTypeInfo];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseTensorTypeAndShapeInfo];
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[OrtApiIndex.ReleaseSessionOptions];
        AddSessionConfigEntry = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)t[OrtApiIndex.AddSessionConfigEntry];
    }

    /// <summary>The library's own version string, for example <c>1.30.0</c>.</summary>
    public string Version { get; }

    /// <summary>Turns a non-null <c>OrtStatus*</c> into an exception, releasing the status either way.</summary>
    public void Check(nint status, string operation)
    {
        if (status == 0)
        {
            return;
        }

        int code;
        string message;
        try
        {
            code = GetErrorCode(status);
            message = Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? string.Empty;
        }
        finally
        {
            ReleaseStatus(status);
        }

        throw new OnnxRuntimeException((OrtErrorCode)code, message, operation);
    }

    /// <summary>Copies a string ORT allocated with <paramref name="allocator"/>, then frees it with that allocator.</summary>
    public string TakeAllocatorString(nint allocator, byte* value)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;
        }
        finally
        {
            if (value != null)
            {
                Check(AllocatorFree(allocator, value), "freeing a name string");
            }
        }
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="value"/>, for the narrow-char parameters of the C API.</summary>
    public static byte[] Utf8z(string value)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>
    /// A NUL-terminated path in ORT's <c>ORTCHAR_T</c>: UTF-16 <c>wchar_t</c> on Windows, UTF-8 <c>char</c> elsewhere.
    /// </summary>
    public static byte[] PathChars(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            byte[] wide = new byte[(path.Length + 1) * 2];
            Encoding.Unicode.GetBytes(path, wide);
            return wide;
        }

        return Utf8z(path);
    }
}
