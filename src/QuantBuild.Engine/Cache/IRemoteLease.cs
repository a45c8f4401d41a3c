namespace QuantBuild.Engine.Cache;

/// <summary>One key's lease in an <see cref="IRemoteCache"/>: renewed while held, lapsing by itself if the holder dies.</summary>
public interface IRemoteLease
{
    /// <summary>Gives the lease up so a waiting agent can take it at once. Never throws: a lease not released lapses.</summary>
    Task ReleaseAsync();
}
