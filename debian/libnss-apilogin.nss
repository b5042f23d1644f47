# Remote users after the local ones; removed again on remove and purge.
passwd after=files apilogin
group  after=files apilogin
