using System.Runtime.InteropServices;

namespace QuantBuild.Runtime.Native;

/// <summary>
/// Owns one ONNX Runtime object (env, session options, session, memory info, value, type info) and releases it
/// with the matching <c>Release*</c> function exactly once, even if the owner forgets to dispose.
/// <see cref="LiveCount"/> counts handles not yet released so tests can prove runs leak nothing.
/// </summary>
internal sealed unsafe class OrtHandle : SafeHandle
{
    private static long s_live;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _release;

    private OrtHandle(nint handle, delegate* unmanaged[Cdecl]<nint, void> release)
        : base(0, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Native objects wrapped and not yet released, across the process.</summary>
    public static long LiveCount => Interlocked.Read(ref s_live);

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of <paramref name="handle"/>, which <paramref name="release"/> frees.</summary>
    public static OrtHandle Own(nint handle, delegate* unmanaged[Cdecl]<nint, void> release)
    {
        if (handle == 0)
        {
            throw new InvalidOperationException("ONNX Runtime returned success but no object; the OrtApi table does not match this library.");
        }

        return new OrtHandle(handle, release);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        _release(handle);
        Interlocked.Decrement(ref s_live);
        return true;
    }
}
