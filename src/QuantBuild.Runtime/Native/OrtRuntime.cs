namespace QuantBuild.Runtime.Native;

/// <summary>
/// The process-wide ONNX Runtime: the loaded library, one <c>OrtEnv</c> (ORT wants exactly one per process),
/// one CPU memory info for wrapping managed buffers, and the default allocator. Created on first use so that
/// merely referencing QuantBuild.Runtime never loads a 45 MB native library.
/// </summary>
internal static unsafe class OrtRuntime
{
    // ORT_LOGGING_LEVEL_WARNING: ORT prints nothing for a healthy model, but real problems still show.
    private const int LogLevelWarning = 2;
    // OrtArenaAllocator and OrtMemTypeDefault: plain CPU memory, which is what a pinned managed array is.
    private const int ArenaAllocator = 1;
    private const int MemTypeDefault = 0;

    private static readonly Lazy<State> s_state = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static OrtApi Api => s_state.Value.Api;

    public static OrtHandle Env => s_state.Value.Env;

    public static OrtHandle CpuMemoryInfo => s_state.Value.CpuMemoryInfo;

    /// <summary>ORT's default CPU allocator; owned by ORT, never released.</summary>
    public static nint Allocator => s_state.Value.Allocator;

    public static string LibraryPath => s_state.Value.LibraryPath;

    private static State Create()
    {
        OrtLibraryResolver.Loaded loaded = OrtLibraryResolver.Load(
            Environment.GetEnvironmentVariable(OrtLibraryResolver.LibraryVariable),
            AppContext.BaseDirectory,
            OrtLibraryResolver.CurrentRid(),
            OrtLibraryResolver.CurrentFileNames());
        var api = new OrtApi(loaded.ApiTable, loaded.Version);

        nint env;
        fixed (byte* logId = OrtApi.Utf8z("QuantBuild"))
        {
            api.Check(api.CreateEnv(LogLevelWarning, logId, &env), "creating the ONNX Runtime environment");
        }

        OrtHandle envHandle = OrtHandle.Own(env, api.ReleaseEnv);
        nint memoryInfo;
        api.Check(api.CreateCpuMemoryInfo(ArenaAllocator, MemTypeDefault, &memoryInfo), "creating CPU memory info");
        OrtHandle memoryInfoHandle = OrtHandle.Own(memoryInfo, api.ReleaseMemoryInfo);
        nint allocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator), "getting the default allocator");
        return new State(api, envHandle, memoryInfoHandle, allocator, loaded.Path);
    }

    private sealed record State(OrtApi Api, OrtHandle Env, OrtHandle CpuMemoryInfo, nint Allocator, string LibraryPath);
}
