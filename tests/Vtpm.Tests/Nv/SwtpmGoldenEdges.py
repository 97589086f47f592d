#!/usr/bin/env python3
"""Builds the fourth command sequence of SwtpmGoldenTests (edge cases: index range ends, empty reads and writes, SHA-1 extend, unwritten counter, trailing zeros of authValues, maxTries 0, wrong handle types) into cmds4.txt and, given a swtpm data port, records its responses (sw4.out)."""
import struct, sys
OWNER=0x40000001; LOCKOUT=0x4000000A; ENDORSE=0x4000000B; PLATFORM=0x4000000C; PLATNV=0x4000000D; PW=0x40000009
def cmd(cc, handles=(), nauth=0, params=b'', auths=None):
    body=b''.join(struct.pack('>I',h) for h in handles)
    tag=0x8001
    if nauth:
        tag=0x8002
        auths = auths or [b'']*nauth
        area=b''.join(struct.pack('>IHBH',PW,0,1,len(a))+a for a in auths)
        body+=struct.pack('>I',len(area))+area
    body+=params
    return struct.pack('>HII',tag,10+len(body),cc)+body
def b2(b): return struct.pack('>H',len(b))+b
def nvpub(idx, attrs, size, alg=0x0B, pol=b''):
    return b2(struct.pack('>IHI',idx,alg,attrs)+b2(pol)+struct.pack('>H',size))
OR=1<<17; OW=1<<1; AR=1<<18; AW=1<<2; PPR=1<<16; PPW=1; PC=1<<30; NODA=1<<25; PD=1<<10; GL=1<<15
NT=lambda t: t<<4
I=0x01500300
cmds=[]
def add(c): cmds.append(c.hex())
WA=1<<12; ORD=1<<26; PC=1<<30; RSTC=1<<31; WSTC=1<<14; WDEF=1<<13
DEF=0x12A; W=0x137; R=0x14E; RP=0x169
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(0x01FFFFFF,OR|OW,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(0x01000000,OR|OW,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I,PPR|PPW,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|ORD,8)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+2,OR|OW|WA,8)))
add(cmd(W,[OWNER,I+2],1,b2(b'12345678')+struct.pack('>H',0)))
add(cmd(W,[OWNER,I+2],1,b2(b'')+struct.pack('>H',0)))
add(cmd(R,[OWNER,I+2],1,struct.pack('>HH',0,0)))
add(cmd(R,[OWNER,I+2],1,struct.pack('>HH',0,8)))
add(cmd(W,[OWNER,I+1],1,b2(b'')+struct.pack('>H',8)))
add(cmd(R,[OWNER,I+1],1,struct.pack('>HH',0,0)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+3,OR|OW|NT(4),20,alg=0x04)))
add(cmd(0x136,[OWNER,I+3],1,b2(b'abc')))
add(cmd(R,[OWNER,I+3],1,struct.pack('>HH',20,0)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+4,OR|OW|NT(1),8)))
add(cmd(R,[OWNER,I+4],1,struct.pack('>HH',8,0)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+5,OR|OW|NT(2)|WSTC,8)))
add(cmd(0x135,[OWNER,I+5],1,struct.pack('>Q',0)))
add(cmd(R,[OWNER,I+5],1,struct.pack('>HH',8,0)))
add(cmd(0x138,[OWNER,I+5],1))
add(cmd(0x135,[OWNER,I+5],1,struct.pack('>Q',1)))
add(cmd(DEF,[OWNER],1,b2(b'x')+nvpub(I+6,AR|AW|WDEF|RSTC|NODA,8)))
add(cmd(0x138,[I+6,I+6],1,b'',[b'x']))
add(cmd(0x14F,[I+6,I+6],1,b'',[b'x']))
add(cmd(RP,[I+6]))
add(cmd(0x14F,[OWNER,I+6],1))
add(cmd(0x138,[OWNER,I+6],1))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+7,OR|OW,8,alg=0x04,pol=b'p'*32)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+7,OR|OW,8,alg=0x04,pol=b'p'*20)))
add(cmd(RP,[I+7]))
add(cmd(0x129,[OWNER],1,b2(b'abc\0\0')))
add(cmd(0x128,[OWNER],1,struct.pack('>Q',1<<45),[b'abc']))
add(cmd(0x128,[OWNER],1,struct.pack('>Q',1<<45),[b'abc\0']))
add(cmd(0x128,[OWNER],1,struct.pack('>Q',1<<45),[b'ab']))
add(cmd(DEF,[OWNER],1,b2(b'k\0\0')+nvpub(I+8,AR|AW|NODA,8),[b'abc']))
add(cmd(W,[I+8,I+8],1,b2(b'a')+struct.pack('>H',0),[b'k']))
add(cmd(0x127,[PLATFORM],1,b'\x01'))
add(cmd(0x126,[PLATFORM],1))
add(cmd(0x127,[PLATFORM],1,b'\x02'))
add(cmd(0x13A,[LOCKOUT],1,struct.pack('>III',0,0,0)))
add(cmd(DEF,[OWNER],1,b2(b'pw')+nvpub(I+9,AR|AW,8),[b'abc']))
add(cmd(W,[I+9,I+9],1,b2(b'a')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I+9,I+9],1,b2(b'a')+struct.pack('>H',0),[b'pw']))
add(cmd(0x13A,[LOCKOUT],1,struct.pack('>III',5,0,0)))
add(cmd(W,[I+9,I+9],1,b2(b'a')+struct.pack('>H',0),[b'bad']))
add(cmd(W,[I+9,I+9],1,b2(b'a')+struct.pack('>H',0),[b'pw']))
add(cmd(0x131-0x131+0x12A,[ENDORSE],1,b2(b'')+nvpub(I+10,OR|OW,8)))
add(cmd(RP,[0x01500399]))
add(cmd(RP,[0x02000000]))
add(cmd(R,[I+9,I+8],1,struct.pack('>HH',1,0),[b'pw']))
add(cmd(0x122,[OWNER,I+9],1,b'',[b'abc']))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',PLATFORM,0)))
add(cmd(0x121,[PLATFORM],1,struct.pack('>IB',PLATFORM,1)))
open("cmds4.txt","w").write("\n".join(cmds)+"\n")
if len(sys.argv) > 1:
    import socket
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    out = []
    for c in cmds:
        s.sendall(bytes.fromhex(c))
        hdr = b""
        while len(hdr) < 10: hdr += s.recv(10 - len(hdr))
        n = int.from_bytes(hdr[2:6], "big"); rest = b""
        while len(rest) < n - 10: rest += s.recv(n - 10 - len(rest))
        out.append((hdr + rest).hex())
    open("sw4.out", "w").write("\n".join(out) + "\n")
