using System.Runtime.InteropServices;

namespace Vtpm.Emulator.Transports;

/// <summary>struct iovec (sys/uio.h): one buffer of a sendmsg(2)/recvmsg(2) call.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

/// <summary>
/// struct msghdr (sys/socket.h) as glibc lays it out on 64-bit Linux: what sendmsg(2)/recvmsg(2) take to carry
/// a descriptor beside the data (SCM_RIGHTS, the way QEMU hands over the data channel with CMD_SET_DATAFD).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}
