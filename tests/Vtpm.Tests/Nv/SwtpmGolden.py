#!/usr/bin/env python3
"""Builds the command sequence of SwtpmGoldenTests (cmds.txt) and, given a swtpm data port, records its responses (sw.out).
Usage: python3 SwtpmGolden.py [PORT]  (swtpm socket --tpm2 --server type=tcp,port=PORT --flags not-need-init,startup-clear)"""
import struct, sys
from swtpm_golden_lib import *
I=0x01500010
cmds=[]
def add(c): cmds.append(c.hex())
DEF=0x12A
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I,OR|OW,16)))
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I,OR|OW,16)))   # NV_DEFINED
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|NT(1),4)))  # counter size 4
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|NT(4),20)))  # extend size
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW,2049)))  # too big
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|(1<<12),1025)))  # writeall too big
add(cmd(DEF,[OWNER],1,b2(b'a'*33)+nvpub(I+1,AR|AW,8)))  # auth too long
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW,8,pol=b'x'*20)))  # pol size
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW,8,alg=0x10)))  # null alg
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(0x81000001,OR|OW,8)))  # not nv
add(cmd(DEF,[OWNER],1,b2(b'')+b2(b'')))  # empty public
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|(1<<10),8)))  # policy delete owner
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|NT(1)|(1<<27),8)))  # counter clear_stclear
add(cmd(DEF,[PLATFORM],1,b2(b'')+nvpub(I+1,PPR|PPW,8)))  # platform w/o PC
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|(1<<29),8)))  # WRITTEN
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|NT(8),8)))  # pinfail w/o noda
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+1,OR|OW|NT(9)|AW,8)))  # pinpass authwrite
add(cmd(DEF,[OWNER],1,b2(b'pw')+nvpub(I+2,AR|AW|OR|OW,8)))  # ok
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+3,OR|OW|NT(1),8)))  # counter
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+4,OR|OW|NT(2),8)))  # bits
add(cmd(DEF,[OWNER],1,b2(b'')+nvpub(I+5,OR|OW|NT(4),32)))  # extend
add(cmd(DEF,[PLATFORM],1,b2(b'')+nvpub(I+6,PPR|PPW|PC|(1<<14)|(1<<31),8)))  # platform idx wstclear readstclear
RP=0x169
for i in range(7): add(cmd(RP,[I+i]))
W=0x137; R=0x14E
add(cmd(R,[OWNER,I],1,struct.pack('>HH',16,0)))  # uninit
add(cmd(W,[OWNER,I],1,b2(b'hello')+struct.pack('>H',3)))
add(cmd(R,[OWNER,I],1,struct.pack('>HH',16,0)))
add(cmd(R,[OWNER,I],1,struct.pack('>HH',8,9)))  # range
add(cmd(R,[OWNER,I],1,struct.pack('>HH',1,17)))  # offset
add(cmd(R,[OWNER,I],1,struct.pack('>HH',1025,0)))  # size
add(cmd(W,[OWNER,I],1,b2(b'x'*4)+struct.pack('>H',17)))  # offset
add(cmd(W,[OWNER,I],1,b2(b'x'*4)+struct.pack('>H',14)))  # range
add(cmd(W,[OWNER,I],1,b2(b'x'*1025)+struct.pack('>H',0)))  # size
add(cmd(RP,[I]))
add(cmd(W,[I+2,I+2],1,b2(b'ab')+struct.pack('>H',0),[b'pw']))
add(cmd(W,[I+2,I+2],1,b2(b'ab')+struct.pack('>H',0),[b'bad']))
add(cmd(R,[I+2,I+2],1,struct.pack('>HH',2,0),[b'pw']))
add(cmd(R,[I+2,I],1,struct.pack('>HH',2,0),[b'pw']))  # other index auth
add(cmd(0x134,[OWNER,I+3],1))  # increment
add(cmd(0x134,[OWNER,I+3],1))
add(cmd(R,[OWNER,I+3],1,struct.pack('>HH',8,0)))
add(cmd(0x134,[OWNER,I],1))  # incr ordinary
add(cmd(W,[OWNER,I+3],1,b2(b'x'*8)+struct.pack('>H',0)))
add(cmd(0x135,[OWNER,I+4],1,struct.pack('>Q',0x81)))
add(cmd(R,[OWNER,I+4],1,struct.pack('>HH',8,0)))
add(cmd(0x136,[OWNER,I+5],1,b2(b'abc')))
add(cmd(R,[OWNER,I+5],1,struct.pack('>HH',32,0)))
add(cmd(0x136,[OWNER,I],1,b2(b'abc')))
add(cmd(0x138,[OWNER,I],1))  # writelock no attr
add(cmd(0x138,[PLATFORM,I+6],1))
add(cmd(W,[PLATFORM,I+6],1,b2(b'ab')+struct.pack('>H',0)))
add(cmd(0x138,[PLATFORM,I+6],1))  # already locked
add(cmd(0x14F,[PLATFORM,I+6],1))  # readlock
add(cmd(R,[PLATFORM,I+6],1,struct.pack('>HH',2,0)))
add(cmd(RP,[I+6]))
add(cmd(0x14F,[OWNER,I],1))
add(cmd(0x122,[OWNER,I+6],1))  # owner undefine platform
add(cmd(0x11F,[I+6,PLATFORM],2))  # undefine special no policydelete w/ password
add(cmd(0x13B,[I+2],1,b2(b'new'),[b'pw']))  # changeauth pw
add(cmd(0x132,[OWNER],1))  # global lock
add(cmd(0x121,[OWNER],1,struct.pack('>IB',ENDORSE,0)))  # owner disables endorsement
add(cmd(0x121,[OWNER],1,struct.pack('>IB',LOCKOUT,0)))
add(cmd(0x121,[OWNER],1,struct.pack('>IB',OWNER,2)))
add(cmd(0x121,[ENDORSE],1,struct.pack('>IB',ENDORSE,1)))
add(cmd(0x129,[OWNER],1,b2(b'x'*65)))
add(cmd(0x129,[OWNER],1,b2(b'x'*64)))
add(cmd(0x129,[OWNER],1,b2(b''), [b'x'*64]))
add(cmd(0x12E,[OWNER],1,b2(b'x'*20)+struct.pack('>H',0x0B)))
add(cmd(0x12E,[OWNER],1,b2(b'x'*32)+struct.pack('>H',0x99)))
add(cmd(0x12E,[OWNER],1,b2(b'x'*32)+struct.pack('>H',0x0B)))
add(cmd(0x12E,[OWNER],1,b2(b'')+struct.pack('>H',0x10)))
add(cmd(0x127,[LOCKOUT],1,b'\x01'))
add(cmd(0x126,[LOCKOUT],1))
add(cmd(0x127,[LOCKOUT],1,b'\x00'))
add(cmd(0x127,[PLATFORM],1,b'\x00'))
add(cmd(0x127,[OWNER],1,b'\x00'))
add(cmd(0x128,[OWNER],1,struct.pack('>Q',0)))
add(cmd(0x128,[OWNER],1,struct.pack('>Q',0xFFFF000000000001)))
add(cmd(0x128,[ENDORSE],1,struct.pack('>Q',1<<50)))
add(cmd(0x130,[OWNER],1,b'\x04'))
add(cmd(0x130,[OWNER],1,b'\xfd'))
add(cmd(0x13A,[LOCKOUT],1,struct.pack('>III',5,10,15)))
add(cmd(0x139,[LOCKOUT],1,[], [b'bad']) if False else cmd(0x139,[LOCKOUT],1,b'',[b'bad']))
add(cmd(0x139,[LOCKOUT],1))
add(cmd(0x126,[PLATFORM],1))
for i in range(7): add(cmd(RP,[I+i]))
add(cmd(0x124,[PLATFORM],1))
add(cmd(0x125,[PLATFORM],1))
add(cmd(0x124,[OWNER],1))
record(cmds, "cmds.txt", sys.argv, "sw.out")
